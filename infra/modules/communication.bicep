// Azure Communication Services with an Email Communication Service. An Azure-managed domain
// (<guid>.azurecomm.net) is always created and linked, so mail works right after the first
// deployment. A custom domain is added when customDomainName is set; Azure links only verified
// domains, so it is linked (and becomes the sender) once customDomainVerified is true, after its
// DNS records have been published and verified (see infra/README.md).

@description('Name of the Communication Services resource.')
param communicationServiceName string

@description('Name of the Email Communication Service resource.')
param emailServiceName string

@description('Tags applied to all resources.')
param tags { *: string }

@description('Geography where ACS and the email service keep data at rest. Both must be the same for the domain link.')
param dataLocation string

@description('Custom mail domain (for example mail.example.com). Empty: send from the Azure-managed domain only.')
param customDomainName string = ''

@description('True once the custom domain\'s DNS records are verified: link it and send from it.')
param customDomainVerified bool = false

@description('Display name shown with the sender address.')
param senderDisplayName string

// Both resources are global; their data residency is chosen by dataLocation.
var globalLocation = 'global'
var hasCustomDomain = !empty(customDomainName)
var useCustomDomain = hasCustomDomain && customDomainVerified

resource emailService 'Microsoft.Communication/emailServices@2025-05-01' = {
  name: emailServiceName
  location: globalLocation
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource managedDomain 'Microsoft.Communication/emailServices/domains@2025-05-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: globalLocation
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    // No tracking pixels or rewritten links in mail that carries update passwords.
    userEngagementTracking: 'Disabled'
  }
}

resource managedSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2025-05-01' = {
  parent: managedDomain
  name: 'donotreply'
  properties: {
    username: 'DoNotReply'
    displayName: senderDisplayName
  }
}

resource customDomain 'Microsoft.Communication/emailServices/domains@2025-05-01' = if (hasCustomDomain) {
  parent: emailService
  name: hasCustomDomain ? customDomainName : 'unused'
  location: globalLocation
  tags: tags
  properties: {
    domainManagement: 'CustomerManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource customSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2025-05-01' = if (hasCustomDomain) {
  parent: customDomain
  name: 'donotreply'
  properties: {
    username: 'DoNotReply'
    displayName: senderDisplayName
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' = {
  name: communicationServiceName
  location: globalLocation
  tags: tags
  properties: {
    dataLocation: dataLocation
    // Access keys (and so connection strings) are refused: callers sign in with Microsoft Entra ID.
    disableLocalAuth: true
    linkedDomains: useCustomDomain ? [managedDomain.id, customDomain.id] : [managedDomain.id]
  }
  // The sender usernames must exist before mail is sent from the linked domains.
  dependsOn: [
    managedSender
    customSender
  ]
}

// The domain part of the sender: <guid>.azurecomm.net, or the custom domain once it is verified.
var senderDomain = useCustomDomain
  ? customDomain!.properties.mailFromSenderDomain
  : managedDomain.properties.mailFromSenderDomain

@description('Name of the Communication Services resource.')
output communicationServiceName string = communicationService.name

@description('ACS endpoint the app sends mail through, for example https://acs-x.unitedstates.communication.azure.com.')
output endpoint string = 'https://${communicationService.properties.hostName}'

@description('Sender address: the DoNotReply username on the linked sending domain.')
output senderAddress string = 'DoNotReply@${senderDomain}'

@description('Name of the custom domain resource, empty when none is configured.')
output customDomainName string = hasCustomDomain ? customDomain.name : ''
