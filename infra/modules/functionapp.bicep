// The Flex Consumption plan and the function app. The app runs as the user-assigned identity and
// reaches host storage, Table Storage, Key Vault, ACS and Application Insights with it: no setting
// holds a key or a connection string with a key.

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the function app (globally unique: it becomes <name>.azurewebsites.net).')
param name string

@description('Azure region of the plan and the app.')
param location string

@description('Tags applied to the plan.')
param tags { *: string }

@description('Tags applied to the function app, including azd-service-name.')
param appTags { *: string }

@description('Resource ID of the user-assigned identity the app runs as.')
param identityId string

@description('Client ID of that identity.')
param identityClientId string

@description('Name of the storage account holding host storage, the deployment container and the tables.')
param storageAccountName string

@description('Blob endpoint of that account, with a trailing slash.')
param storageBlobEndpoint string

@description('Table endpoint of that account, with a trailing slash.')
param storageTableEndpoint string

@description('Container the platform deploys the app package from.')
param deploymentContainerName string

@description('Name of the Application Insights resource.')
param applicationInsightsName string

@description('Key Vault URI.')
param vaultUri string

@description('ACS endpoint (https://...).')
param communicationEndpoint string

@description('Sender address of outgoing mail.')
param senderAddress string

@description('Resource ID of the user-assigned identity used only by staff sign-in, as the client assertion of the app registration (no secret).')
param signInIdentityId string

@description('Client ID of that identity.')
param signInIdentityClientId string

@minValue(1)
@maxValue(1000)
@description('Most instances the app may scale out to: a ceiling on cost as much as on throughput.')
param maximumInstanceCount int

@allowed([
  512
  2048
  4096
])
@description('Memory of each instance.')
param instanceMemoryMB int = 2048

@description('IANA time zone in which plan dates are computed (Smp:BusinessTimeZone).')
param businessTimeZone string

@description('NCRONTAB schedule of the reminder run, in UTC (Smp:ReminderSchedule).')
param reminderSchedule string

@description('NCRONTAB schedule of the renewals desk\'s weekly digest, in UTC (Smp:DigestSchedule).')
param digestSchedule string

@description('Mailbox of the renewals desk (Smp:RenewalsDeskEmail).')
param renewalsDeskEmail string

@description('Days a customer link stays valid (Smp:LinkValidityDays).')
param linkValidityDays int

@allowed([
  'CurrentPlan'
  'ReleasedDuringCover'
])
@description('Which licenses are entitled to an update (Smp:Updates:Entitlement).')
param updatesEntitlement string

@description('Resource ID of the Log Analytics workspace that receives the app\'s FunctionAppLogs.')
param logAnalyticsWorkspaceId string

resource storageAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    // Flex Consumption runs on Linux only.
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: appTags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
      '${signInIdentityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      // Code arrives through the deployment container only: no FTP, plain or TLS.
      ftpsState: 'Disabled'
    }
    // On Flex Consumption the runtime, scale and deployment source live here; the classic
    // FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION settings are not allowed.
    functionAppConfig: {
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
    }
  }
}

// Basic (user name and password) publishing credentials are refused for FTP and for the SCM site
// (Kudu, zip deploy): deployment signs in with Microsoft Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// The host's and the worker's log stream (FunctionAppLogs) in the workspace, next to the vault's audit
// events and the table logs.
resource appLogsToWorkspace 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'app-logs-to-log-analytics'
  scope: site
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}

// App settings are a child resource rather than siteConfig.appSettings so that Smp__PublicBaseUrl can
// use the host name Azure gave the site.
resource appSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    // Host storage through the identity (no AzureWebJobsStorage connection string).
    AzureWebJobsStorage__accountName: storageAccount.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // DefaultAzureCredential / ManagedIdentityCredential in the worker pick the identity by this.
    AZURE_CLIENT_ID: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // SMP settings (the app's Smp:* configuration section; "__" stands for ":" on Linux).
    Smp__BusinessTimeZone: businessTimeZone
    Smp__ReminderSchedule: reminderSchedule
    Smp__DigestSchedule: digestSchedule
    Smp__RenewalsDeskEmail: renewalsDeskEmail
    Smp__SenderAddress: senderAddress
    Smp__PublicBaseUrl: 'https://${site.properties.defaultHostName}'
    Smp__LinkValidityDays: string(linkValidityDays)
    Smp__Email__Transport: 'Acs'
    Smp__Email__AcsEndpoint: communicationEndpoint
    Smp__Secrets__Store: 'KeyVault'
    Smp__Secrets__VaultUri: vaultUri
    Smp__Updates__Entitlement: updatesEntitlement
    Smp__Tables__serviceUri: storageTableEndpoint
    Smp__Tables__credential: 'managedidentity'
    Smp__Tables__clientId: identityClientId
    // Smp:Reminders is a list of offsets in days before expiry (the 90- and 30-day reminders).
    Smp__Reminders__0: '90'
    Smp__Reminders__1: '30'
    // Staff sign-in (signin.bicep) presents this identity's token instead of a client secret.
    OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: signInIdentityClientId
  }
}

@description('Name of the function app.')
output name string = site.name

@description('Default host name of the function app.')
output defaultHostName string = site.properties.defaultHostName
