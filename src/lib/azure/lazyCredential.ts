import type { GetTokenOptions, TokenCredential } from '@azure/identity';

/**
 * A TokenCredential that loads @azure/identity and builds DefaultAzureCredential (managed identity in
 * Azure) on the first token request, so SDK clients can be constructed synchronously without paying
 * the identity import at cold start.
 */
export function lazyDefaultCredential(opts: { authorityHost?: string; managedIdentityClientId?: string }): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    getToken: async (scopes: string | string[], options?: GetTokenOptions) => {
      credential ??= import('@azure/identity').then(
        ({ DefaultAzureCredential }) => new DefaultAzureCredential({ authorityHost: opts.authorityHost, managedIdentityClientId: opts.managedIdentityClientId }),
      );
      return (await credential).getToken(scopes, options);
    },
  };
}
