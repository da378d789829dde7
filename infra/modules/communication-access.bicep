// Communication and Email Service Owner on the one Communication Services resource: the built-in
// role that allows sending email with a Microsoft Entra token. There is no narrower built-in role,
// so the scope is kept to this single resource; with customRoleDefinitionId set, the narrower custom
// role of custom-roles.bicep is assigned instead.

@description('Name of the Communication Services resource.')
param communicationServiceName string

@description('Object ID of the principal that gets the role.')
param principalId string

@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
@description('Kind of principal.')
param principalType string

@description('ID of a narrower custom role to assign instead of Communication and Email Service Owner (see custom-roles.bicep). Empty: the built-in role.')
param customRoleDefinitionId string = ''

resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' existing = {
  name: communicationServiceName
}

resource communicationOwner 'Microsoft.Authorization/roleDefinitions@2022-04-01' existing = {
  scope: subscription()
  name: '09976791-48a7-449e-bb21-39d1a415f350'
}

resource communicationOwnerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, principalId, empty(customRoleDefinitionId) ? communicationOwner.id : customRoleDefinitionId)
  scope: communicationService
  properties: {
    roleDefinitionId: empty(customRoleDefinitionId) ? communicationOwner.id : customRoleDefinitionId
    principalId: principalId
    principalType: principalType
  }
}
