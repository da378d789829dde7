// Log Analytics workspace and the workspace-based Application Insights resource the function app
// reports to. Local (instrumentation key) authentication is disabled: telemetry is accepted only with
// a Microsoft Entra token, which the app obtains with its managed identity (Monitoring Metrics
// Publisher, granted in monitoring-access.bicep).

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights resource.')
param applicationInsightsName string

@description('Azure region of both resources.')
param location string

@description('Tags applied to both resources.')
param tags { *: string }

@minValue(30)
@maxValue(730)
@description('Days the workspace keeps logs. 30 days are included in the ingestion price.')
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      // Queries and ingestion only with a Microsoft Entra token: the workspace's shared keys are refused.
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

@description('Resource ID of the Log Analytics workspace, where the diagnostic settings of the vault, the tables and the app send their logs.')
output workspaceId string = workspace.id

@description('Name of the Application Insights resource.')
output applicationInsightsName string = appInsights.name
