// SMP back end: a .NET isolated function app on the Flex Consumption plan with Table Storage,
// Key Vault and Azure Communication Services Email, all reached with one user-assigned managed
// identity. No key or connection string with a key is stored anywhere.
//
// Deployed by `azd up` (see azure.yaml and infra/README.md) at subscription scope: it creates the
// resource group rg-<environmentName> and everything in it.
targetScope = 'subscription'

metadata description = 'SMP back end on Azure Functions Flex Consumption, with managed identity and RBAC only.'

@minLength(1)
@maxLength(64)
@description('azd environment name. Names the resource group (rg-<name>) and seeds the unique suffix of every resource name.')
param environmentName string

@minLength(1)
@description('Azure region of the resource group and all regional resources. It must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object ID of the person (or pipeline principal) running azd; azd fills it with the signed-in user. It gets data roles only when grantDeveloperDataRoles is true.')
param principalId string = ''

@description('Give principalId the same data roles as the app, so the back end can run on a workstation against these resources and secrets can be managed with az. Off by default; leave it off for production environments.')
param grantDeveloperDataRoles bool = false

@description('Assign the app narrow custom roles instead of Key Vault Secrets Officer and Communication and Email Service Owner. Creating them needs Microsoft.Authorization/roleDefinitions/write (Owner or User Access Administrator).')
param useNarrowCustomRoles bool = false

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principal principalId names.')
param principalType string = 'User'

@description('IANA time zone in which plan dates (expiry, reminder due dates) are computed: Smp:BusinessTimeZone.')
param businessTimeZone string = 'America/Denver'

@description('NCRONTAB schedule (six fields) of the daily reminder run: Smp:ReminderSchedule. Flex Consumption runs schedules in UTC; the default is 13:00 UTC, early morning in the business time zone.')
param reminderSchedule string = '0 0 13 * * *'

@description('NCRONTAB schedule (six fields, UTC) of the renewals desk\'s weekly digest: Smp:DigestSchedule. The default is Mondays at 14:00 UTC.')
param digestSchedule string = '0 0 14 * * 1'

@minLength(3)
@description('Mailbox of the renewals desk, which receives quote requests: Smp:RenewalsDeskEmail.')
param renewalsDeskEmail string

@minValue(1)
@maxValue(365)
@description('Days a signed customer link stays valid: Smp:LinkValidityDays.')
param linkValidityDays int = 14

@allowed([
  'CurrentPlan'
  'ReleasedDuringCover'
])
@description('Which licenses may fetch an update password: Smp:Updates:Entitlement.')
param updatesEntitlement string = 'CurrentPlan'

@minValue(1)
@maxValue(1000)
@description('Most instances the function app may scale out to.')
param maximumInstanceCount int = 40

@minValue(7)
@maxValue(90)
@description('Days deleted secrets stay recoverable in Key Vault. Fixed once the vault exists.')
param keyVaultSoftDeleteRetentionInDays int = 90

@description('Geography where Communication Services and the email service keep data at rest, for example "United States" or "Europe".')
param emailDataLocation string = 'United States'

@description('Custom mail domain, for example mail.example.com. Empty: send from the Azure-managed azurecomm.net domain.')
param customEmailDomain string = ''

@description('Set to true after the custom domain\'s DNS records are verified; until then mail goes out from the Azure-managed domain.')
param customEmailDomainVerified bool = false

@description('Display name shown with the sender address.')
param senderDisplayName string = 'Software Maintenance Plans'

@description('Application (client) ID of the Microsoft Entra app registration staff sign in with (docs/deploying.md). Empty: built-in authentication stays off, and nobody can sign in to the console.')
param staffSignInClientId string = ''

@description('Directory (tenant) ID of that app registration; by default the tenant deployed to.')
param staffSignInTenantId string = tenant().tenantId

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-smp-${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'

resource resourceGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: resourceGroup
  params: {
    name: 'id-smp-${resourceToken}'
    location: location
    tags: tags
  }
}

// Used only by staff sign-in: the app registration trusts it (a federated identity credential) instead of a secret.
module signInIdentity 'modules/identity.bicep' = {
  name: 'signin-identity'
  scope: resourceGroup
  params: {
    name: 'id-smp-signin-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    logAnalyticsName: 'log-smp-${resourceToken}'
    applicationInsightsName: 'appi-smp-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    name: 'stsmp${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'key-vault'
  scope: resourceGroup
  params: {
    name: 'kv-smp-${resourceToken}'
    location: location
    tags: tags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  scope: resourceGroup
  params: {
    communicationServiceName: 'acs-smp-${resourceToken}'
    emailServiceName: 'ecs-smp-${resourceToken}'
    tags: tags
    dataLocation: emailDataLocation
    customDomainName: customEmailDomain
    customDomainVerified: customEmailDomainVerified
    senderDisplayName: senderDisplayName
  }
}

// Narrower roles than the built-in ones for the vault and mail, only when asked for.
module customRoles 'modules/custom-roles.bicep' = if (useNarrowCustomRoles) {
  name: 'custom-roles'
  params: {
    assignableScope: resourceGroup.id
    resourceToken: resourceToken
  }
}

var keyVaultRoleId = useNarrowCustomRoles ? customRoles!.outputs.keyVaultRoleId : ''
var communicationRoleId = useNarrowCustomRoles ? customRoles!.outputs.communicationRoleId : ''

// Roles of the app's identity, each scoped to the one resource it is for.
module appStorageAccess 'modules/storage-access.bicep' = {
  name: 'storage-access-app'
  scope: resourceGroup
  params: {
    storageAccountName: storage.outputs.name
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
  }
}

module appKeyVaultAccess 'modules/keyvault-access.bicep' = {
  name: 'key-vault-access-app'
  scope: resourceGroup
  params: {
    vaultName: keyVault.outputs.name
    principalId: identity.outputs.principalId
    customRoleDefinitionId: keyVaultRoleId
    principalType: 'ServicePrincipal'
  }
}

module appCommunicationAccess 'modules/communication-access.bicep' = {
  name: 'communication-access-app'
  scope: resourceGroup
  params: {
    communicationServiceName: communication.outputs.communicationServiceName
    principalId: identity.outputs.principalId
    customRoleDefinitionId: communicationRoleId
    principalType: 'ServicePrincipal'
  }
}

module appMonitoringAccess 'modules/monitoring-access.bicep' = {
  name: 'monitoring-access-app'
  scope: resourceGroup
  params: {
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
  }
}

// The same roles for the developer, so `func start` on a workstation can use these resources: only on request.
module userStorageAccess 'modules/storage-access.bicep' = if (grantDeveloperDataRoles && !empty(principalId)) {
  name: 'storage-access-user'
  scope: resourceGroup
  params: {
    storageAccountName: storage.outputs.name
    principalId: principalId
    principalType: principalType
  }
}

module userKeyVaultAccess 'modules/keyvault-access.bicep' = if (grantDeveloperDataRoles && !empty(principalId)) {
  name: 'key-vault-access-user'
  scope: resourceGroup
  params: {
    vaultName: keyVault.outputs.name
    principalId: principalId
    customRoleDefinitionId: keyVaultRoleId
    principalType: principalType
  }
}

module userCommunicationAccess 'modules/communication-access.bicep' = if (grantDeveloperDataRoles && !empty(principalId)) {
  name: 'communication-access-user'
  scope: resourceGroup
  params: {
    communicationServiceName: communication.outputs.communicationServiceName
    principalId: principalId
    customRoleDefinitionId: communicationRoleId
    principalType: principalType
  }
}

module userMonitoringAccess 'modules/monitoring-access.bicep' = if (grantDeveloperDataRoles && !empty(principalId)) {
  name: 'monitoring-access-user'
  scope: resourceGroup
  params: {
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: principalId
    principalType: principalType
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'function-app'
  scope: resourceGroup
  params: {
    planName: 'plan-smp-${resourceToken}'
    name: functionAppName
    location: location
    tags: tags
    appTags: union(tags, {
      'azd-service-name': 'api'
    })
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    signInIdentityId: signInIdentity.outputs.id
    signInIdentityClientId: signInIdentity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    vaultUri: keyVault.outputs.uri
    communicationEndpoint: communication.outputs.endpoint
    senderAddress: communication.outputs.senderAddress
    maximumInstanceCount: maximumInstanceCount
    businessTimeZone: businessTimeZone
    reminderSchedule: reminderSchedule
    digestSchedule: digestSchedule
    renewalsDeskEmail: renewalsDeskEmail
    linkValidityDays: linkValidityDays
    updatesEntitlement: updatesEntitlement
  }
  // The host reads its storage and the deployment package with the identity: grant the roles first.
  dependsOn: [
    appStorageAccess
    appKeyVaultAccess
    appCommunicationAccess
    appMonitoringAccess
  ]
}

module staffSignIn 'modules/signin.bicep' = if (!empty(staffSignInClientId)) {
  name: 'staff-signin'
  scope: resourceGroup
  params: {
    siteName: functionApp.outputs.name
    clientId: staffSignInClientId
    tenantId: staffSignInTenantId
  }
}

// Outputs land in the azd environment (.azure/<env>/.env). None of them is a secret.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_HOST_NAME string = functionApp.outputs.defaultHostName
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output SMP_SIGNIN_IDENTITY_PRINCIPAL_ID string = signInIdentity.outputs.principalId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output AZURE_COMMUNICATION_SERVICE_NAME string = communication.outputs.communicationServiceName
output AZURE_COMMUNICATION_ENDPOINT string = communication.outputs.endpoint
output SMP_SENDER_ADDRESS string = communication.outputs.senderAddress
output SMP_CUSTOM_EMAIL_DOMAIN_RESOURCE string = communication.outputs.customDomainName
