// Monitoring Metrics Publisher on the one Application Insights resource: with local authentication
// disabled there, telemetry is accepted only from principals holding this role.

@description('Name of the Application Insights resource.')
param applicationInsightsName string

@description('Object ID of the principal that gets the role.')
param principalId string

@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
@description('Kind of principal.')
param principalType string

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource metricsPublisher 'Microsoft.Authorization/roleDefinitions@2022-04-01' existing = {
  scope: subscription()
  name: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource metricsPublisherAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, metricsPublisher.id)
  scope: appInsights
  properties: {
    roleDefinitionId: metricsPublisher.id
    principalId: principalId
    principalType: principalType
  }
}
