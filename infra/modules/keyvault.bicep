// Key Vault for the per-update passwords and the link-signing key. RBAC authorization (no access
// policies): the app gets Key Vault Secrets Officer because it creates the link-signing key on first
// use and stores update passwords published through the API.

@description('Name of the vault (3-24 characters, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the vault.')
param location string

@description('Tags applied to the vault.')
param tags { *: string }

@minValue(7)
@maxValue(90)
@description('Days a deleted secret (or the deleted vault) can be recovered. It cannot be changed after the vault is created.')
param softDeleteRetentionInDays int = 90

@description('Resource ID of the Log Analytics workspace that receives the vault\'s audit events.')
param logAnalyticsWorkspaceId string

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // Purge protection cannot be turned off again: a deleted vault or secret stays recoverable for
    // the whole retention period, so an update password can never be destroyed by accident.
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// Every secret read, write and denied attempt, with the caller, lands in the workspace
// (AzureDiagnostics, Category == "AuditEvent").
resource auditToWorkspace 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

@description('Name of the vault.')
output name string = vault.name

@description('Vault URI, with a trailing slash.')
output uri string = vault.properties.vaultUri
