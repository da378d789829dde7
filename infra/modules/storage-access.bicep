// Data-plane roles on the storage account, scoped to that one account. Used for the app's identity
// and, when a principalId is given, for the developer who runs the app locally against Azure.
//   Storage Blob Data Owner: host storage (leases, keys, timer state) and the deployment package.
//   Storage Queue Data Contributor: host storage queues (blob-trigger receipts, diagnostics).
//   Storage Table Data Contributor: the SMP tables.

@description('Name of the storage account.')
param storageAccountName string

@description('Object ID of the principal that gets the roles.')
param principalId string

@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
@description('Kind of principal; stating it lets Azure skip a directory lookup that can fail right after a new identity is created.')
param principalType string

resource storageAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource blobDataOwner 'Microsoft.Authorization/roleDefinitions@2022-04-01' existing = {
  scope: subscription()
  name: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
}

resource queueDataContributor 'Microsoft.Authorization/roleDefinitions@2022-04-01' existing = {
  scope: subscription()
  name: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
}

resource tableDataContributor 'Microsoft.Authorization/roleDefinitions@2022-04-01' existing = {
  scope: subscription()
  name: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource blobDataOwnerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalId, blobDataOwner.id)
  scope: storageAccount
  properties: {
    roleDefinitionId: blobDataOwner.id
    principalId: principalId
    principalType: principalType
  }
}

resource queueDataContributorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalId, queueDataContributor.id)
  scope: storageAccount
  properties: {
    roleDefinitionId: queueDataContributor.id
    principalId: principalId
    principalType: principalType
  }
}

resource tableDataContributorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalId, tableDataContributor.id)
  scope: storageAccount
  properties: {
    roleDefinitionId: tableDataContributor.id
    principalId: principalId
    principalType: principalType
  }
}
