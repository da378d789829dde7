// Key Vault Secrets Officer on the one vault: the app reads update passwords and the link-signing
// key, creates the signing key on first use and stores passwords published through the API.
// (Secrets User would be enough for an app that only reads.) With customRoleDefinitionId set, the
// narrower custom role of custom-roles.bicep (get, list versions, set) is assigned instead.

@description('Name of the vault.')
param vaultName string

@description('Object ID of the principal that gets the role.')
param principalId string

@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
@description('Kind of principal.')
param principalType string

@description('ID of a narrower custom role to assign instead of Key Vault Secrets Officer (see custom-roles.bicep). Empty: the built-in role.')
param customRoleDefinitionId string = ''

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: vaultName
}

resource secretsOfficer 'Microsoft.Authorization/roleDefinitions@2022-04-01' existing = {
  scope: subscription()
  name: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource secretsOfficerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, empty(customRoleDefinitionId) ? secretsOfficer.id : customRoleDefinitionId)
  scope: vault
  properties: {
    roleDefinitionId: empty(customRoleDefinitionId) ? secretsOfficer.id : customRoleDefinitionId
    principalId: principalId
    principalType: principalType
  }
}
