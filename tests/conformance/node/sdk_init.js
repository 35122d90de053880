// What probe.js and emails_probe.mjs share: the SDK set-up (a data centre for one emailshare
// server, and the InitializeBuilder pointed at it: token, token file and resource path in a
// directory of the caller's; each probe adds what is its own, a logger, and calls initialize()),
// and plain(), which turns what the SDK's getters return into plain JSON.

import * as path from "node:path";

import * as ZOHOCRMSDK from "@zohocrm/nodejs-sdk-7.0";

const { DataCenter, FileStore, InitializeBuilder } = ZOHOCRMSDK;

/**
 * A data centre for one emailshare server: API domain and accounts both at its base URL.
 * The SDK's own data centres (USDataCenter, ...) have the same shape: the API URL, and as
 * "accounts URL" the full token endpoint ({accounts}/oauth/v2/token), which the SDK posts to
 * as is and extends with "/revoke" to revoke.
 */
export class EmailshareDataCenter extends DataCenter {
  constructor(baseUrl) {
    super();
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  getIAMUrl() {
    return `${this.baseUrl}/oauth/v2/token`;
  }

  getFileUploadUrl() {
    return this.baseUrl;
  }

  environment() {
    return DataCenter.setEnvironment(this.baseUrl, this.getIAMUrl(), this.getFileUploadUrl());
  }
}

/**
 * An InitializeBuilder for the server at `url` with `token` (an OAuthBuilder's token), keeping
 * the SDK's token file (storeDir/sdk_tokens.txt) and the module field metadata it would cache
 * in `storeDir`, out of the repository.
 */
export async function sdkBuilder(url, token, storeDir) {
  return (await new InitializeBuilder())
    .environment(new EmailshareDataCenter(url).environment())
    .token(token)
    .store(new FileStore(path.join(storeDir, "sdk_tokens.txt")))
    .resourcePath(storeDir);
}

/**
 * The SDK hands back JSON objects as Maps (details), ids as BigInt, Dates and Choices: make
 * them plain JSON (ids as digit strings, Dates as {iso, epoch_ms}, a Choice as its value).
 */
export function plain(value) {
  if (value instanceof Map) {
    const out = {};
    for (const [k, v] of value) out[k] = plain(v);
    return out;
  }
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return { iso: value.toISOString(), epoch_ms: value.getTime() };
  if (value !== null && typeof value === "object" && typeof value.getValue === "function") {
    return plain(value.getValue()); // Choice
  }
  return value === undefined ? null : value;
}
