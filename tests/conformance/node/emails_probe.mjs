// Drives Zoho's official Node SDK (@zohocrm/nodejs-sdk-7.0 4.0.0, unmodified) through its
// EmailRelatedRecords package against an emailshare server (docs/contract.md §12) and prints
// what the SDK parsed, as ONE JSON line on stdout.
//
// usage: node emails_probe.mjs SERVER_URL TOKEN MODULE RECORD_ID
//            [--type T] [--owner-id ID] [--index I] [--all] [--message MESSAGE_ID]
//
//   without --message: getEmailsRelatedRecords(), one page (from --index), or with --all every
//   page, following info.getNextIndex() through GetEmailsRelatedRecordsParam.INDEX;
//   with --message: getEmailsRelatedRecord(MESSAGE_ID).
//
// stdout, exit 0:
//   list      {"ok":true,"pages":[{"http_status":200,"emails":[{...}],"info":{...}} | {"http_status":204,"empty":true}]}
//   one       {"ok":true,"http_status":200,"emails":[{...}]}
//   API error {"ok":false,"code":...,"message":...,"details":{...},"status":...,"http_status":...}
// Every value is read through the SDK's getters; ids (BigInt) are printed as digit strings,
// Dates as {"iso": toISOString(), "epoch_ms": getTime()}, booleans as booleans, Choices by value.
// What the SDK throws instead: {"ok":false,"sdk_error":{...}}, exit 2.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import * as ZOHOCRMSDK from "@zohocrm/nodejs-sdk-7.0";

import { plain, sdkBuilder } from "./sdk_init.js";

const { EmailRelatedRecords, OAuthBuilder } = ZOHOCRMSDK;
const { ParameterMap } = ZOHOCRMSDK;

function parseArgs(argv) {
  const positional = [];
  const options = { all: false };
  const valued = ["type", "owner-id", "index", "message"];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--all") options.all = true;
    else if (arg.startsWith("--")) {
      const name = arg.slice(2);
      if (!valued.includes(name) || i + 1 >= argv.length) throw new Error(`bad option ${arg}`);
      options[name] = argv[++i];
    } else positional.push(arg);
  }
  if (positional.length !== 4) throw new Error("usage: SERVER_URL TOKEN MODULE RECORD_ID ...");
  const [url, token, module, recordId] = positional;
  return { url, token, module, recordId, ...options };
}

const party = (p) => (p == null ? null : { user_name: plain(p.getUserName()), email: plain(p.getEmail()) });
const parties = (list) => (list == null ? null : list.map(party));

function email(e) {
  const owner = e.getOwner();
  const linked = e.getLinkedRecord();
  const module = linked == null ? null : linked.getModule();
  return {
    message_id: plain(e.getMessageId()),
    subject: plain(e.getSubject()),
    time: plain(e.getTime()),
    sent_time: plain(e.getSentTime()),
    owner: owner == null ? null : { id: plain(owner.getId()), name: plain(owner.getName()) },
    from: party(e.getFrom()),
    to: parties(e.getTo()),
    cc: parties(e.getCc()),
    reply_to: party(e.getReplyTo()),
    status: (e.getStatus() ?? []).map((s) => ({ type: plain(s.getType()) })),
    sent: plain(e.getSent()),
    read: plain(e.getRead()),
    has_attachment: plain(e.getHasAttachment()),
    has_thread_attachment: plain(e.getHasThreadAttachment()),
    editable: plain(e.getEditable()),
    source: plain(e.getSource()),
    linked_record:
      linked == null
        ? null
        : {
            id: plain(linked.getId()),
            name: plain(linked.getName()),
            module: module == null ? null : { api_name: plain(module.getAPIName()), id: plain(module.getId()) },
          },
    attachments:
      e.getAttachments() == null
        ? null
        : e.getAttachments().map((a) => ({ id: plain(a.getId()), name: plain(a.getName()), size: plain(a.getSize()) })),
    thread_id: plain(e.getThreadId()),
    content: plain(e.getContent()),
    mail_format: plain(e.getMailFormat()),
    intent: plain(e.getIntent()),
    sentiment_info: plain(e.getSentimentInfo()),
    emotion: plain(e.getEmotion()),
    summary: plain(e.getSummary()),
  };
}

function info(i) {
  if (i == null) return null;
  return {
    per_page: plain(i.getPerPage()),
    count: plain(i.getCount()),
    next_index: plain(i.getNextIndex()),
    prev_index: plain(i.getPrevIndex()),
    more_records: plain(i.getMoreRecords()),
  };
}

/** One answer as the SDK parsed it: a page, an API exception, or nothing (204). */
function read(response) {
  const { ResponseWrapper, APIException } = EmailRelatedRecords;
  const status = response == null ? null : response.getStatusCode();
  const object = response == null ? null : response.getObject();
  if (object instanceof ResponseWrapper) {
    return { http_status: status, emails: (object.getEmails() ?? []).map(email), info: info(object.getInfo()) };
  }
  if (object instanceof APIException) {
    return {
      ok: false,
      http_status: status,
      code: plain(object.getCode()),
      message: plain(object.getMessage()),
      details: plain(object.getDetails() ?? new Map()),
      status: plain(object.getStatus()),
    };
  }
  return { http_status: status, empty: true };
}

async function probe(args) {
  const ownerId = args["owner-id"] === undefined ? null : BigInt(args["owner-id"]);
  const ops = new EmailRelatedRecords.EmailRelatedRecordsOperations(
    BigInt(args.recordId),
    args.module,
    args.type ?? null,
    ownerId,
  );
  if (args.message !== undefined) {
    const one = read(await ops.getEmailsRelatedRecord(args.message));
    return one.ok === false ? one : { ok: true, ...one };
  }
  const pages = [];
  let index = args.index ?? null;
  for (;;) {
    const params = new ParameterMap();
    if (index !== null) {
      await params.add(EmailRelatedRecords.GetEmailsRelatedRecordsParam.INDEX, index);
    }
    const page = read(await ops.getEmailsRelatedRecords(params));
    if (page.ok === false) return page;
    pages.push(page);
    const next = page.info?.next_index ?? null;
    if (!args.all || next === null || page.info.more_records !== true || pages.length > 50) break;
    index = next;
  }
  return { ok: true, pages };
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stdout.write(JSON.stringify({ ok: false, sdk_error: { message: String(error) } }) + "\n");
    return 2;
  }
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "emailshare-node-emails-"));
  try {
    const token = new OAuthBuilder().accessToken(args.token).build();
    await (await sdkBuilder(args.url, token, storeDir)).initialize();
    const result = await probe(args);
    process.stdout.write(JSON.stringify(result) + "\n");
    return 0;
  } catch (error) {
    const out = { ok: false, sdk_error: { code: error?.code ?? null, message: String(error?.message ?? error) } };
    process.stdout.write(JSON.stringify(out) + "\n");
    return 2;
  } finally {
    fs.rmSync(storeDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
