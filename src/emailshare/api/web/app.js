// The emailshare admin page: plain JavaScript, no framework, no build step.
// Every call to the admin API sends the key the user typed as X-Emailshare-Admin-Key; the key
// is kept in this page's memory only. Data is always put in the page as text, never as HTML.
"use strict";

(() => {
  const API = new URL("../", document.baseURI); // /__emailshare/
  const HEADER = "X-Emailshare-Admin-Key";
  const MAX_ROWS = 200; // rows drawn per table; the filter finds the rest
  const MAX_OPTIONS = 2000;

  const page = {
    key: "",
    org: null, // the open org, as GET /__emailshare/state?org=ID returns it
    explained: null, // the parameters of the explain shown
    users: new Map(),
    roles: new Map(),
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (name === "class") node.className = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  class ApiError extends Error {}

  async function api(path, params, asText) {
    const url = new URL(path, API);
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
    }
    const response = await fetch(url, { headers: { [HEADER]: page.key }, cache: "no-store" });
    const text = await response.text();
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        const body = JSON.parse(text);
        message = `${body.code}: ${body.message}`;
      } catch (_) {
        /* not JSON: keep the status */
      }
      throw new ApiError(message);
    }
    return asText ? text : JSON.parse(text);
  }

  function badge(ok, yes, no) {
    return el("span", { class: `badge ${ok ? "ok" : "no"}` }, ok ? yes || "yes" : no || "no");
  }

  function userLabel(id) {
    const user = page.users.get(id);
    return user ? user.name : id;
  }

  function fillTable(table, rows) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows);
  }

  // --- orgs -----------------------------------------------------------------------------------

  async function connect(event) {
    event.preventDefault();
    page.key = $("key").value;
    setStatus("Connecting…");
    try {
      const doc = await api("state", { summary: 1 });
      renderOrgs(doc.orgs);
      $("main").hidden = false;
      setStatus(`Connected: ${doc.orgs.length} org${doc.orgs.length === 1 ? "" : "s"}.`);
      startRequests();
      refreshMailboxes();
    } catch (error) {
      $("main").hidden = true;
      setStatus(error instanceof ApiError ? error.message : String(error), true);
    }
  }

  function renderOrgs(orgs) {
    const items = orgs.map((org) =>
      el(
        "li",
        {},
        el(
          "button",
          { type: "button", class: "org", dataset: { orgId: org.id }, onclick: () => openOrg(org.id) },
          el("strong", {}, org.name),
          el("span", { class: "muted" }, `${org.id} · ${org.users} users · ${org.records} records`),
        ),
      ),
    );
    $("org-list").replaceChildren(...items);
    if (!orgs.length) $("org-list").append(el("li", { class: "muted" }, "No orgs: load a fixture."));
  }

  async function openOrg(orgId) {
    setStatus("Loading org…");
    try {
      const doc = await api("state", { org: orgId });
      const org = doc.orgs[0];
      page.org = org;
      page.users = new Map(org.users.map((u) => [u.id, u]));
      page.roles = new Map(org.roles.map((r) => [r.id, r]));
      for (const button of document.querySelectorAll("button.org")) {
        button.classList.toggle("selected", button.dataset.orgId === orgId);
      }
      $("org-title").textContent = `${org.name} (${org.id})`;
      $("org-view").hidden = false;
      $("explain").hidden = true;
      fillSelects(org);
      renderUsers();
      renderRecords();
      setStatus(`${org.name}: ${org.users.length} users, ${org.records.length} records.`);
    } catch (error) {
      setStatus(String(error.message || error), true);
    }
  }

  function fillSelects(org) {
    const callers = org.users.slice(0, MAX_OPTIONS).map((u) =>
      el("option", { value: u.id }, `${u.name} (${u.id})`),
    );
    $("caller").replaceChildren(...callers);
    const records = org.records.slice(0, MAX_OPTIONS).map((r) =>
      el("option", { value: r.id, dataset: { module: r.module } }, `${r.module} · ${r.name} (${r.id})`),
    );
    $("record").replaceChildren(...records);
    const modules = [...new Set(org.records.map((r) => r.module))].sort();
    $("module-list").replaceChildren(...modules.map((m) => el("option", { value: m })));
    syncModule();
  }

  // The explain form's module, as the URL writes it: the chosen record's own by default; any
  // other spelling (lower case, a custom module's name, a wrong module) explains that URL.
  function syncModule() {
    const record = page.org.records.find((r) => r.id === $("record").value);
    $("module").value = record ? record.module : "";
  }

  function matches(filter, ...fields) {
    const wanted = filter.trim().toLowerCase();
    return !wanted || fields.some((f) => String(f ?? "").toLowerCase().includes(wanted));
  }

  function renderUsers() {
    const filter = $("user-filter").value;
    const users = page.org.users.filter((u) =>
      matches(filter, u.name, u.id, u.email, u.email_sharing, u.status),
    );
    const rows = users.slice(0, MAX_ROWS).map((u) => {
      const role = u.role ? page.roles.get(u.role) : null;
      const mailbox = u.mailbox
        ? `${u.mailbox.protocol}${u.mailbox.enabled ? "" : " (disabled)"}`
        : "—";
      return el(
        "tr",
        { dataset: { userId: u.id }, title: "Use as the caller", onclick: () => chooseCaller(u.id) },
        el("td", {}, u.name),
        el("td", { class: "id" }, u.id),
        el("td", {}, role ? role.name : "—"),
        el("td", {}, u.profile),
        el("td", {}, u.status),
        el("td", {}, mailbox),
        el("td", {}, u.email_sharing),
      );
    });
    fillTable($("users-table"), rows);
    $("users-more").textContent =
      users.length > MAX_ROWS ? `${users.length - MAX_ROWS} more: narrow the filter.` : "";
  }

  function renderRecords() {
    const filter = $("record-filter").value;
    const records = page.org.records.filter((r) =>
      matches(filter, r.module, r.id, r.name, userLabel(r.owner)),
    );
    const rows = records.slice(0, MAX_ROWS).map((r) =>
      el(
        "tr",
        {
          dataset: { recordId: r.id },
          title: "Explain this record",
          class: r.deleted ? "deleted" : "",
          onclick: () => chooseRecord(r.id),
        },
        el("td", {}, r.module),
        el("td", { class: "id" }, r.id),
        el("td", {}, r.name + (r.deleted ? " (deleted)" : "")),
        el("td", {}, userLabel(r.owner)),
        el("td", {}, r.shared_with.map(userLabel).join(", ") || "—"),
        el("td", {}, r.emails_shared_by.map(userLabel).join(", ") || "—"),
      ),
    );
    fillTable($("records-table"), rows);
    $("records-more").textContent =
      records.length > MAX_ROWS ? `${records.length - MAX_ROWS} more: narrow the filter.` : "";
  }

  function ensureOption(select, value, label) {
    if (![...select.options].some((o) => o.value === value)) {
      select.append(el("option", { value }, label));
    }
    select.value = value;
  }

  function chooseCaller(userId) {
    ensureOption($("caller"), userId, `${userLabel(userId)} (${userId})`);
    setStatus(`Caller: ${userLabel(userId)}. Click a record, or Explain.`);
  }

  function chooseRecord(recordId) {
    const record = page.org.records.find((r) => r.id === recordId);
    ensureOption($("record"), recordId, record ? `${record.module} · ${record.name} (${recordId})` : recordId);
    syncModule();
    runExplain();
  }

  // --- explain --------------------------------------------------------------------------------

  async function runExplain(event) {
    if (event) event.preventDefault();
    const callerId = $("caller").value;
    const recordId = $("record").value;
    if (!callerId || !recordId) return;
    const record = page.org.records.find((r) => r.id === recordId);
    const module = $("module").value.trim() || record?.module;
    const params = { org: page.org.id, caller: callerId, record: recordId, module };
    if ($("email-type").value) params.type = $("email-type").value;
    await explainWith(params);
  }

  async function explainWith(params) {
    const recordId = params.record;
    setStatus("Explaining…");
    try {
      const doc = await api("explain", params);
      page.explained = params;
      renderExplain(doc);
      setStatus(`Explained: ${doc.caller.name} on ${doc.record ? doc.record.name : recordId}.`);
    } catch (error) {
      setStatus(String(error.message || error), true);
    }
  }

  // The text form is asked for only when its section is opened: on a large org each explain
  // call reads the whole org.
  async function showText() {
    const section = $("text-section");
    if (!section.open || !page.explained || section.dataset.loaded === "1") return;
    section.dataset.loaded = "1";
    $("answer-text").textContent = "…";
    try {
      $("answer-text").textContent = await api("explain", { ...page.explained, format: "text" }, true);
    } catch (error) {
      section.dataset.loaded = "";
      $("answer-text").textContent = String(error.message || error);
    }
  }

  function renderExplain(doc) {
    const target = doc.record ? `${doc.record.module} “${doc.record.name}”` : `${doc.module} record`;
    $("explain-title").textContent = `${doc.caller.name} → ${target}`;
    const status = doc.answer.status;
    const answerBadge = $("answer-status");
    answerBadge.textContent = status === 200 ? "HTTP 200" : `HTTP ${status} ${doc.answer.body.code}`;
    answerBadge.className = `badge ${status === 200 ? "ok" : "no"}`;

    const verdict = $("read-verdict");
    verdict.replaceChildren();
    if (doc.read) {
      verdict.append(
        badge(doc.read.may_read, "may read", "may not read"),
        " ",
        doc.read.may_read ? `by rule ${doc.read.rule}` : "no rule lets the caller read it (NO_PERMISSION)",
      );
    } else {
      const failed = doc.checks.find((c) => !c.passed);
      verdict.append(badge(false, "", "not reached"), " ", failed ? failed.detail : "");
    }
    verdict.dataset.rule = doc.read && doc.read.rule ? doc.read.rule : "";

    fillTable(
      $("checks-table"),
      doc.checks.map((c) =>
        el("tr", { dataset: { check: c.check } }, el("td", {}, badge(c.passed)), el("td", {}, c.check), el("td", {}, c.detail)),
      ),
    );
    fillTable(
      $("facts-table"),
      (doc.read ? doc.read.facts : []).map((f) =>
        el(
          "tr",
          { dataset: { rule: f.rule }, class: doc.read.rule === f.rule ? "decisive" : "" },
          el("td", {}, badge(f.holds)),
          el("td", {}, f.rule),
          el("td", {}, f.detail),
        ),
      ),
    );
    fillTable(
      $("share-table"),
      doc.share_from_users.map((u) =>
        el(
          "tr",
          { dataset: { userId: u.id, decision: u.decision }, class: u.included ? "included" : "excluded" },
          el("td", {}, u.position ?? "—"),
          el("td", {}, badge(u.included)),
          el("td", {}, u.name, el("span", { class: "id sub" }, u.id)),
          el("td", {}, u.mailbox ? `${u.mailbox}${u.mailbox_enabled ? "" : " (disabled)"}` : "—"),
          el("td", {}, u.email_sharing),
          el("td", { class: "decision" }, u.decision),
          el("td", {}, u.detail),
        ),
      ),
    );
    renderEmails(doc.emails);
    // Compact, keys in order: the very bytes the endpoint answers.
    $("answer-body").textContent = JSON.stringify(doc.answer.body);
    $("answer-text").textContent = "";
    $("text-section").dataset.loaded = "";
    $("explain").hidden = false;
    showText();
  }

  // Why each email is or is not in the record's Emails list (null when the answer is an error).
  function renderEmails(mail) {
    $("emails-section").hidden = mail === null || mail === undefined;
    if (!mail) return;
    const summary = $("emails-summary");
    summary.textContent = mail.error
      ? `the list answers ${mail.error.code}: ${mail.error.message}`
      : `${mail.listed} listed (type ${mail.type ?? "absent"})`;
    summary.dataset.error = mail.error ? mail.error.code : "";
    fillTable(
      $("emails-table"),
      mail.emails.map((e) =>
        el(
          "tr",
          { dataset: { messageId: e.message_id, reason: e.reason }, class: e.listed ? "included" : "excluded" },
          el("td", {}, e.position ?? "—"),
          el("td", {}, badge(e.listed)),
          el("td", {}, e.subject ?? "(no subject)", el("span", { class: "id sub" }, e.message_id)),
          el("td", {}, e.kind),
          el("td", { class: "decision" }, e.reason),
          el("td", {}, e.detail),
        ),
      ),
    );
  }

  // --- requests: the journal (GET /__emailshare/requests), refreshed every 2 s --------------

  const REFRESH_MS = 2000;
  const journal = { entries: [], signature: "", open: null, busy: false, timer: null };

  function journalParams() {
    const params = { limit: 100 };
    const path = $("rq-path").value.trim();
    if (path) params[path.startsWith("/") ? "path" : "path_contains"] = path;
    params.method = $("rq-method").value;
    params.status = $("rq-status").value.trim();
    params.caller = $("rq-caller").value.trim();
    return params;
  }

  async function refreshRequests(event) {
    if (event) event.preventDefault();
    if (journal.busy) return;
    journal.busy = true;
    try {
      const doc = await api("requests", journalParams());
      $("requests-error").hidden = true;
      journal.entries = doc.requests.slice().reverse(); // newest first
      const signature = journal.entries.map((e) => e.id + e.status).join(",") + doc.dropped;
      if (signature !== journal.signature) {
        journal.signature = signature;
        renderRequests(doc);
      }
    } catch (error) {
      $("requests-error").textContent = String(error.message || error);
      $("requests-error").hidden = false;
    } finally {
      journal.busy = false;
    }
  }

  function renderRequests(doc) {
    const rows = journal.entries.map((e) =>
      el(
        "tr",
        {
          dataset: { requestId: e.id, status: e.status },
          class: journal.open && journal.open.id === e.id ? "selected" : "",
          title: "Open the whole exchange",
          onclick: () => openExchange(e),
        },
        el("td", {}, e.time.slice(11, 23)),
        el("td", {}, e.method),
        el("td", { class: "path" }, e.url),
        el("td", {}, el("span", { class: `badge ${e.status < 400 ? "ok" : "no"}` }, e.status)),
        el("td", { class: "id" }, e.user_id ?? "—"),
        el("td", {}, e.duration_ms.toFixed(1)),
        el("td", { class: "id" }, e.id),
      ),
    );
    fillTable($("requests-table"), rows);
    const dropped = doc.dropped ? `, ${doc.dropped} dropped by this worker` : "";
    $("requests-count").textContent = `${rows.length} shown, the newest first (the journal keeps ${doc.kept})${dropped}`;
  }

  function headerRows(headers) {
    return headers.map(([name, value]) => el("tr", {}, el("td", {}, name), el("td", {}, value)));
  }

  function sizeNote(text, size) {
    const kept = new TextEncoder().encode(text).length;
    return size > kept ? `\n… (${size} bytes in all; the first ${kept} kept)` : "";
  }

  function openExchange(entry) {
    journal.open = entry;
    for (const row of $("requests-table").tBodies[0].rows) {
      row.classList.toggle("selected", row.dataset.requestId === entry.id);
    }
    $("exchange-line").textContent = `${entry.method} ${entry.url}`;
    const status = $("exchange-status");
    status.textContent = `HTTP ${entry.status}`;
    status.className = `badge ${entry.status < 400 ? "ok" : "no"}`;
    const caller = entry.user_id ? `caller ${entry.user_id} of org ${entry.org_id}` : "no known caller";
    $("exchange-meta").textContent =
      `${entry.time} · ${entry.duration_ms} ms · request id ${entry.id} · ${caller} · served by ${entry.server}`;
    fillTable($("exchange-request-headers"), headerRows(entry.request_headers));
    fillTable($("exchange-response-headers"), headerRows(entry.response_headers));
    $("exchange-request-body").textContent =
      (entry.request_body || "(no body)") + sizeNote(entry.request_body, entry.request_size);
    $("exchange-response-body").textContent =
      (entry.response_body || "(no body)") + sizeNote(entry.response_body, entry.response_size);
    const explain = $("exchange-explain");
    explain.hidden = !entry.explain;
    explain.title = entry.explain ? "The explain view for this caller, module and record" : "";
    $("exchange").hidden = false;
  }

  // Explain exactly the request that was made: its caller, org, module as the URL wrote it,
  // record, and for an emails list its type and owner_id.
  async function explainRequest() {
    const params = journal.open && journal.open.explain;
    if (!params) return;
    if (!page.org || page.org.id !== params.org) await openOrg(params.org);
    if (!page.org || page.org.id !== params.org) return; // openOrg said why
    ensureOption($("caller"), params.caller, `${userLabel(params.caller)} (${params.caller})`);
    const record = page.org.records.find((r) => r.id === params.record);
    ensureOption($("record"), params.record, record ? `${record.module} · ${record.name} (${record.id})` : params.record);
    $("module").value = params.module;
    if (params.type) ensureOption($("email-type"), params.type, params.type);
    else $("email-type").value = "";
    await explainWith(params);
    $("explain").scrollIntoView({ block: "start" });
  }

  async function clearRequests() {
    try {
      const response = await fetch(new URL("requests", API), {
        method: "DELETE",
        headers: { [HEADER]: page.key },
        cache: "no-store",
      });
      if (!response.ok) throw new ApiError(`HTTP ${response.status}`);
      journal.open = null;
      $("exchange").hidden = true;
      await refreshRequests();
    } catch (error) {
      $("requests-error").textContent = String(error.message || error);
      $("requests-error").hidden = false;
    }
  }

  function autoRefresh() {
    if (journal.timer !== null) clearInterval(journal.timer);
    journal.timer = null;
    if ($("rq-auto").checked && page.key) journal.timer = setInterval(refreshRequests, REFRESH_MS);
  }

  function startRequests() {
    refreshRequests();
    autoRefresh();
  }

  // --- mailboxes ------------------------------------------------------------------------------
  // Every mailbox with a real server and how its syncing goes (docs/mailboxes.md). The admin
  // API never answers a password: only the server's host, port, security and login name.

  function utc(when) {
    return when ? when.replace("T", " ").replace(/(\.\d+)?(Z|[+-]00:00)$/, "") : "—";
  }

  async function refreshMailboxes() {
    try {
      const doc = await api("mailboxes");
      $("mailboxes-error").hidden = true;
      renderMailboxes(doc.mailboxes);
    } catch (error) {
      $("mailboxes-error").textContent = String(error.message || error);
      $("mailboxes-error").hidden = false;
    }
  }

  function renderMailboxes(boxes) {
    const rows = boxes.map((m) =>
      el(
        "tr",
        { dataset: { org: m.org, user: m.user }, class: m.last_error ? "failing" : "" },
        el("td", { class: "id" }, m.org),
        el("td", { class: "id" }, m.user),
        el("td", {}, m.address),
        el("td", {}, m.protocol),
        el("td", { class: "server" }, `${m.server.host}:${m.server.port}`),
        el("td", {}, m.server.security),
        el("td", {}, m.server.login),
        el("td", { class: "last-sync" }, m.last_sync ? utc(m.last_sync) : "never"),
        el("td", { class: "emails" }, m.emails),
        el("td", { class: "last-error" }, m.last_error ? badge(false, "", m.last_error) : badge(true, "ok")),
        el("td", { class: "error-at" }, utc(m.last_error_at)),
        el("td", { class: "next-try" }, m.next_try ? `${utc(m.next_try)} (${m.failures} failed)` : "—"),
      ),
    );
    fillTable($("mailboxes-table"), rows);
    const failing = boxes.filter((m) => m.last_error).length;
    $("mailboxes-count").textContent = `${boxes.length} with a server, ${failing} failing`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("key-form").addEventListener("submit", connect);
    $("explain-form").addEventListener("submit", runExplain);
    $("user-filter").addEventListener("input", renderUsers);
    $("record-filter").addEventListener("input", renderRecords);
    $("record").addEventListener("change", syncModule);
    $("requests-filter").addEventListener("submit", refreshRequests);
    for (const id of ["rq-path", "rq-status", "rq-caller"]) {
      $(id).addEventListener("change", () => { journal.signature = ""; refreshRequests(); });
    }
    $("rq-method").addEventListener("change", () => { journal.signature = ""; refreshRequests(); });
    $("rq-auto").addEventListener("change", autoRefresh);
    $("rq-clear").addEventListener("click", clearRequests);
    $("exchange-close").addEventListener("click", () => { journal.open = null; $("exchange").hidden = true; });
    $("exchange-explain").addEventListener("click", explainRequest);
    $("text-section").addEventListener("toggle", showText);
    $("mb-refresh").addEventListener("click", refreshMailboxes);
  });
})();
