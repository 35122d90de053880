// Drives Zoho's official Node SDK (@zohocrm/nodejs-sdk-7.0 4.0.0, unmodified) against an
// emailshare server and prints what the SDK made of the answer, as ONE JSON line on stdout.
//
// usage: node probe.js SERVER_URL TOKEN MODULE RECORD_ID
//                      [--client-id ID --client-secret SECRET] [--store DIR]
//
//   TOKEN          an access token; with --client-id/--client-secret it is a refresh token
//                  instead, and the SDK first posts grant_type=refresh_token (multipart/form-data)
//                  to SERVER_URL/oauth/v2/token.
//   --store DIR    keep the SDK's token file (DIR/sdk_tokens.txt) there between runs; default:
//                  a fresh temporary directory, removed at exit.
//
// stdout, exit 0:
//   success    {"ok":true,"available_types":[...],"share_from_users":[{"id","name","_type"}]}
//   API error  {"ok":false,"code":...,"message":...,"details":{...},"status":...}
// Both are read through the SDK's getters (ResponseWrapper / APIException), never from raw HTTP.
// Anything the SDK throws instead (SDKException, bad usage): {"ok":false,"sdk_error":{...}},
// exit 2. In refresh mode a token endpoint answer {"error":E} (HTTP 200, as Zoho does) is thrown
// from initialize() as SDKException("INVALID TOKEN ERROR", E) (oauth_token.js parseResponse):
// {"ok":false,"sdk_error":{"code":"INVALID TOKEN ERROR","message":E,"cause":null}}, before any
// API call. With --store, a later run finds the saved row by refresh token and refreshes again
// only when fewer than 5 s of the stored expiry_time remain.
//
// Debugging: EMAILSHARE_PROBE_LOG=/path/file.log turns on the SDK's own (winston) log at INFO.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import * as ZOHOCRMSDK from "@zohocrm/nodejs-sdk-7.0";

import { plain, sdkBuilder } from "./sdk_init.js";

const {
  EmailSharingDetails,
  Levels,
  LogBuilder,
  OAuthBuilder,
} = ZOHOCRMSDK;

function parseArgs(argv) {
  const positional = [];
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith("--")) {
      const name = arg.slice(2);
      if (!["client-id", "client-secret", "store"].includes(name) || i + 1 >= argv.length) {
        throw new Error(`unknown or incomplete option: ${arg}`);
      }
      options[name] = argv[++i];
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 4) {
    throw new Error(
      "usage: node probe.js SERVER_URL TOKEN MODULE RECORD_ID " +
        "[--client-id ID --client-secret SECRET] [--store DIR]",
    );
  }
  if (("client-id" in options) !== ("client-secret" in options)) {
    throw new Error("--client-id and --client-secret go together");
  }
  const [url, token, module, recordId] = positional;
  return { url, token, module, recordId, ...options };
}

/**
 * The SDK types record ids as BigInt (EmailSharingDetailsOperations' constructor refuses
 * anything else) and puts recordId.toString() in the path. A digit string in canonical form goes
 * through that typed API; anything else ("abc", "0042") cannot be expressed through it, so the
 * probe builds the operation with a placeholder and then sets the public field to the raw
 * string, which the SDK then sends verbatim. The SDK's code is not touched.
 */
function operationsFor(recordId, module) {
  const Operations = EmailSharingDetails.EmailSharingDetailsOperations;
  if (/^[0-9]+$/.test(recordId) && BigInt(recordId).toString() === recordId) {
    return new Operations(BigInt(recordId), module);
  }
  const ops = new Operations(0n, module);
  ops.recordId = recordId;
  return ops;
}

async function initialise(args, storeDir) {
  let token;
  if (args["client-id"] !== undefined) {
    token = new OAuthBuilder()
      .clientId(args["client-id"])
      .clientSecret(args["client-secret"])
      .refreshToken(args.token)
      .build();
  } else {
    token = new OAuthBuilder().accessToken(args.token).build();
  }
  const builder = await sdkBuilder(args.url, token, storeDir);
  const logFile = process.env.EMAILSHARE_PROBE_LOG;
  if (logFile) {
    builder.logger(new LogBuilder().level(Levels.INFO).filePath(logFile).build());
  }
  // Initialisation already resolves the token: refresh if needed, then the first-use calls
  // GET /crm/v7/users?type=CurrentUser& and GET /crm/v7/org.
  await builder.initialize();
}

async function probe(args) {
  const response = await operationsFor(args.recordId, args.module).getEmailSharingDetails();
  const object = response === null ? null : response.getObject();
  const { ResponseWrapper, APIException } = EmailSharingDetails;
  if (object instanceof ResponseWrapper) {
    const details = object.getEmailssharingdetails() ?? [];
    if (details.length !== 1) {
      const message = `expected one __emails_sharing_details entry, got ${details.length}`;
      return sdkError("UNEXPECTED_SHAPE", message, response);
    }
    const sharing = details[0];
    return {
      ok: true,
      available_types: plain(sharing.getAvailableTypes() ?? []),
      share_from_users: (sharing.getShareFromUsers() ?? []).map((user) => ({
        id: plain(user.getId()),
        name: plain(user.getName()),
        _type: plain(user.getType()),
      })),
    };
  }
  if (object instanceof APIException) {
    return {
      ok: false,
      code: plain(object.getCode()),
      message: plain(object.getMessage()),
      details: plain(object.getDetails() ?? new Map()),
      status: plain(object.getStatus()),
    };
  }
  return sdkError("NO_OBJECT", "the SDK returned no ResponseWrapper or APIException", response);
}

function sdkError(code, message, response) {
  return {
    ok: false,
    sdk_error: {
      code,
      message,
      http_status: response ? response.getStatusCode() : null,
    },
  };
}

function describe(error) {
  return {
    ok: false,
    sdk_error: {
      code: error?.code ?? null,
      message: String(error?.message ?? error),
      cause: error?.cause ? String(error.cause) : null,
    },
  };
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stdout.write(JSON.stringify(describe(error)) + "\n");
    return 2;
  }
  const ownStore = args.store === undefined;
  const storeDir = ownStore
    ? fs.mkdtempSync(path.join(os.tmpdir(), "emailshare-node-sdk-"))
    : args.store;
  try {
    await initialise(args, storeDir);
    const result = await probe(args);
    process.stdout.write(JSON.stringify(result) + "\n");
    return result.ok || "code" in result ? 0 : 2;
  } catch (error) {
    process.stdout.write(JSON.stringify(describe(error)) + "\n");
    return 2;
  } finally {
    if (ownStore) fs.rmSync(storeDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
