// Custom roles narrower than the built-in roles the app would otherwise get, deployed only when
// useNarrowCustomRoles is true (creating role definitions needs Microsoft.Authorization/roleDefinitions/write,
// which Owner and User Access Administrator hold). Each role can be assigned only inside the environment's
// resource group, and its name carries the environment's resource token, since role names are unique in
// the tenant. See infra/README.md, "Narrower custom roles".
targetScope = 'subscription'

@description('Resource ID of the resource group the roles may be assigned in.')
param assignableScope string

@description('The environment\'s resource token: makes the role names unique in the tenant.')
param resourceToken string

// Instead of Key Vault Secrets Officer (every secret data action, deletion and purge included): read a
// secret, list a secret's versions (the link-signing keys), write a new version. No delete, no purge,
// no backup or restore, no keys or certificates.
resource keyVaultSecrets 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, assignableScope, 'smp-key-vault-secrets')
  properties: {
    roleName: 'SMP Key Vault secrets read and write (${resourceToken})'
    description: 'Read, list the versions of, and set secrets in the SMP vault. No delete, purge, backup or restore.'
    type: 'CustomRole'
    assignableScopes: [
      assignableScope
    ]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.KeyVault/vaults/secrets/getSecret/action'
          'Microsoft.KeyVault/vaults/secrets/readMetadata/action'
          'Microsoft.KeyVault/vaults/secrets/setSecret/action'
        ]
        notDataActions: []
      }
    ]
  }
}

// Instead of Communication and Email Service Owner (everything on the resource: delete, list and
// regenerate access keys, every other ACS capability): the permissions Azure Communication Services
// documents for sending mail with a Microsoft Entra token.
resource communicationEmail 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, assignableScope, 'smp-communication-email')
  properties: {
    roleName: 'SMP Communication Services email sender (${resourceToken})'
    description: 'Send email through the SMP Communication Services resource with a Microsoft Entra token. No keys, no delete.'
    type: 'CustomRole'
    assignableScopes: [
      assignableScope
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
          'Microsoft.Communication/EmailServices/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

@description('ID of the narrow Key Vault secrets role.')
output keyVaultRoleId string = keyVaultSecrets.id

@description('ID of the narrow mail-sending role.')
output communicationRoleId string = communicationEmail.id
