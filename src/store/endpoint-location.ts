/**
 * The location part of a store's cache id (`UnderStore.location`) from an endpoint setting.
 * @module
 */

/**
 * One spelling of an endpoint for every way of writing it (host in lower case, no default port,
 * no query, no credentials, no trailing `/`): one server is one location whichever setting names it.
 */
export function endpointLocation(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  } catch {
    return endpoint.replace(/\?.*$/, '').replace(/\/+$/, '');
  }
}
