// Staff sign-in (spec section 7): App Service built-in authentication with Microsoft Entra ID on the
// function app. Requests without a signed-in person are let through (customer routes and function-key
// routes keep working); the app decides who may do what from the X-MS-CLIENT-PRINCIPAL header the
// platform adds for a signed-in person. No client secret: the app registration trusts the sign-in
// identity through a federated identity credential (docs/deploying.md), which the platform uses as its
// client assertion when it redeems a sign-in.

@description('Name of the function app.')
param siteName string

@description('Application (client) ID of the Microsoft Entra app registration staff sign in with.')
param clientId string

@description('Directory (tenant) ID of that app registration.')
param tenantId string

resource site 'Microsoft.Web/sites@2025-03-01' existing = {
  name: siteName
}

resource authSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenantId}/v2.0'
          clientId: clientId
          // The app setting naming the managed identity whose token is the client assertion (no secret).
          clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
        }
      }
    }
    login: {
      // The app reads the person from X-MS-CLIENT-PRINCIPAL and calls no API on their behalf: no tokens to keep.
      tokenStore: {
        enabled: false
      }
    }
  }
}
