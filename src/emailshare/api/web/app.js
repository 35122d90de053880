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
      refreshRequests();
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
    runExplain();
  }

  // --- explain --------------------------------------------------------------------------------

  async function runExplain(event) {
    if (event) event.preventDefault();
    const callerId = $("caller").value;
    const recordId = $("record").value;
    if (!callerId || !recordId) return;
    const record = page.org.records.find((r) => r.id === recordId);
    const params = { org: page.org.id, caller: callerId, record: recordId, module: record?.module };
    if ($("email-type").value) params.type = $("email-type").value;
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

  // --- requests -------------------------------------------------------------------------------

  async function refreshRequests() {
    try {
      const doc = await api("requests", { limit: 20 });
      const items = doc.requests
        .slice()
        .reverse()
        .map((r) =>
          el(
            "li",
            { title: typeof r.response === "string" ? r.response : JSON.stringify(r.response ?? "") },
            el("span", { class: `badge ${r.status < 400 ? "ok" : "no"}` }, r.status),
            ` ${r.method} ${r.path}`,
          ),
        );
      $("request-list").replaceChildren(...items);
      if (!items.length) $("request-list").append(el("li", { class: "muted" }, "None recorded yet."));
    } catch (error) {
      $("request-list").replaceChildren(el("li", { class: "error" }, String(error.message || error)));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("key-form").addEventListener("submit", connect);
    $("explain-form").addEventListener("submit", runExplain);
    $("user-filter").addEventListener("input", renderUsers);
    $("record-filter").addEventListener("input", renderRecords);
    $("refresh-requests").addEventListener("click", refreshRequests);
    $("text-section").addEventListener("toggle", showText);
  });
})();
