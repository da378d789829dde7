// The user-assigned identity the function app runs as. A user-assigned identity (rather than the
// site's system identity) exists before the site does, so its roles can be granted first and the
// host finds its storage, vault and mail access in place on its first start.

@description('Name of the managed identity.')
param name string

@description('Azure region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags { *: string }

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Resource ID of the identity, for the site identity block and deployment storage authentication.')
output id string = identity.id

@description('Client (application) ID: what the app passes to Azure.Identity to pick this identity.')
output clientId string = identity.properties.clientId

@description('Object ID of the identity\'s service principal: the subject of its role assignments.')
output principalId string = identity.properties.principalId
