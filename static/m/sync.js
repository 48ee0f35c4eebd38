// 五五督查 mobile: the write queue and the sync with the server.
//
// Every write the inspector makes gets a client UUID once, when they act, and is queued in
// IndexedDB. A sync round sends the pending items in order, each with its UUID, on every
// retry the same: the server applies a UUID once (same content again: the same answer, 200;
// other content: refused, 409). 200/201 removes the item and updates the stored visit;
// 400/404/409 parks it as failed with the server's message; no network or a 5xx keeps it
// pending and ends the round (the next round retries it).
(function () {
  "use strict";

  var JSON_TIMEOUT_MS = 30000;
  var PHOTO_TIMEOUT_MS = 120000;
  var PERMANENT = [400, 404, 405, 409, 410, 413, 415, 422];

  var state = {
    db: null,
    csrf: "",
    userId: "",
    urls: {},
    running: null,
    again: null,
    phase: "idle", // idle | syncing | offline | signed-out | retrying
    lastSync: null,
    lastError: "",
  };

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent("wuwu:" + name, { detail: detail || {} }));
  }

  function setPhase(phase, message) {
    state.phase = phase;
    if (message !== undefined) state.lastError = message;
    emit("status", { phase: phase, lastSync: state.lastSync, message: state.lastError });
  }

  // --- identifiers -----------------------------------------------------------------------

  function uuid4() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); });
    return hex.slice(0, 4).join("") + "-" + hex.slice(4, 6).join("") + "-" + hex.slice(6, 8).join("") +
      "-" + hex.slice(8, 10).join("") + "-" + hex.slice(10, 16).join("");
  }

  // --- HTTP ------------------------------------------------------------------------------

  function request(url, options, timeoutMs) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = null;
    var opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = Object.assign({ Accept: "application/json", "X-Wuwu-User": String(state.userId) },
      opts.headers || {});
    if (controller) {
      opts.signal = controller.signal;
      timer = setTimeout(function () { controller.abort(); }, timeoutMs || JSON_TIMEOUT_MS);
    }
    return fetch(url, opts).then(function (response) {
      if (timer) clearTimeout(timer);
      return response;
    }, function (error) {
      if (timer) clearTimeout(timer);
      throw error;
    });
  }

  function readJSON(response) {
    return response.text().then(function (text) {
      if (!text) return {};
      try { return JSON.parse(text); } catch (e) { return { detail: text.slice(0, 200) }; }
    });
  }

  // The message the server gave: `detail`, or DRF's field errors joined.
  function messageOf(data, status) {
    if (data && typeof data.detail === "string" && data.detail) return data.detail;
    if (data && typeof data === "object") {
      var parts = [];
      Object.keys(data).forEach(function (key) {
        if (key === "code" || key === "field") return;
        var value = data[key];
        parts.push(Array.isArray(value) ? value.join("；") : String(value));
      });
      if (parts.length) return parts.join("；");
    }
    return interpolate(gettext("The server refused it (%s)."), [status]);
  }

  // GET JSON. `fromCache` is true when the service worker answered from its cache because the
  // network was unavailable: the caller's own copy in IndexedDB is then at least as fresh.
  function getJSON(url) {
    return request(url, { method: "GET", cache: "no-store" }).then(function (response) {
      return readJSON(response).then(function (data) {
        return {
          ok: response.ok,
          status: response.status,
          data: data,
          fromCache: response.headers.get("X-Wuwu-Cache") === "hit",
        };
      });
    });
  }

  // Fetch the shell again to learn whether the session is alive and what the CSRF token is
  // (the token in a shell cached for offline use may predate a new sign-in).
  function probeSession() {
    return fetch(state.urls.home, {
      credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" },
    }).then(function (response) {
      var path = new URL(response.url, window.location.href).pathname;
      if (response.redirected && path.indexOf(state.urls.login) === 0) return "signed-out";
      if (!response.ok) return "error";
      return response.text().then(function (text) {
        var match = /data-csrf="([^"]+)"/.exec(text);
        if (match && match[1] !== state.csrf) {
          state.csrf = match[1];
          return "refreshed";
        }
        return "same";
      });
    }, function () { return "offline"; });
  }

  function send(item) {
    var headers = { "X-CSRFToken": state.csrf, "X-Requested-With": "XMLHttpRequest" };
    if (item.kind === "photo") {
      var form = new FormData();
      Object.keys(item.fields).forEach(function (key) {
        var value = item.fields[key];
        if (value !== null && value !== undefined && value !== "") form.append(key, value);
      });
      form.append("file", item.blob, item.filename || "photo.jpg");
      return request(item.url, { method: "POST", headers: headers, body: form }, PHOTO_TIMEOUT_MS);
    }
    headers["Content-Type"] = "application/json";
    return request(item.url, { method: item.method || "POST", headers: headers, body: JSON.stringify(item.body) },
      JSON_TIMEOUT_MS);
  }

  // --- applying answers to the stored visit -----------------------------------------------

  function upsert(list, entry, same) {
    for (var i = 0; i < list.length; i++) {
      if (same(list[i])) { list[i] = entry; return; }
    }
    list.push(entry);
  }

  function apply(item, data) {
    var db = state.db;
    if (item.kind === "checkin" || item.kind === "submit") {
      if (!data || !data.id) return Promise.resolve();
      data._savedAt = Date.now();
      data._appliedAt = Date.now();
      return db.put("visits", data);
    }
    return db.updateVisit(item.visitId, function (detail) {
      if (item.kind === "result") {
        detail.results = detail.results || [];
        upsert(detail.results, data, function (r) { return r.item === data.item; });
      } else if (item.kind === "finding") {
        detail.findings = detail.findings || [];
        upsert(detail.findings, data, function (f) { return f.client_uuid === data.client_uuid || f.id === data.id; });
      } else if (item.kind === "photo") {
        detail.photos = detail.photos || [];
        upsert(detail.photos, data, function (p) { return p.client_uuid === data.client_uuid || p.uuid === data.uuid; });
      }
    });
  }

  // --- the queue -------------------------------------------------------------------------

  function baseItem(kind, visitId) {
    return {
      id: uuid4(),
      kind: kind,
      method: "POST",
      visitId: Number(visitId),
      createdAt: new Date().toISOString(),
      attempts: 0,
      lastError: "",
      status: "pending",
    };
  }

  // Queue a JSON write. The UUID is made here, once, and goes into the body; a retry sends the
  // stored body unchanged. `coalesceKey` lets an edit replace a queued write not yet sent.
  function enqueueJSON(kind, url, visitId, body, extra) {
    var item = baseItem(kind, visitId);
    item.url = url;
    item.body = Object.assign({ client_uuid: item.id }, body);
    Object.assign(item, extra || {});
    var saved = item.coalesceKey ? state.db.queueAddOrReplace(item) : state.db.queueAdd(item);
    return saved.then(function (stored) {
      emit("queue", { item: stored });
      return stored;
    });
  }

  function enqueuePhoto(visitId, blob, fields, extra) {
    var item = baseItem("photo", visitId);
    item.url = state.urls.photos;
    item.blob = blob;
    item.filename = item.id + ".jpg";
    item.fields = Object.assign({ client_uuid: item.id, visit: Number(visitId) }, fields);
    Object.assign(item, extra || {});
    return state.db.queueAdd(item).then(function (stored) {
      emit("queue", { item: stored });
      return stored;
    });
  }

  function counts() {
    return state.db.queueAll().then(function (items) {
      var pending = 0;
      var failed = 0;
      items.forEach(function (item) { if (item.status === "failed") failed++; else pending++; });
      return { pending: pending, failed: failed, items: items };
    });
  }

  function fail(seq, message) {
    return state.db.queueUpdate(seq, function (item) {
      item.status = "failed";
      item.lastError = message;
    });
  }

  // One round: send the pending items in order. Resolves to a summary.
  async function round() {
    var summary = { sent: 0, failed: 0, stoppedBy: null, visits: {} };
    var items = (await state.db.queueAll()).filter(function (item) { return item.status === "pending"; });
    var probed = false;
    for (var i = 0; i < items.length; i++) {
      // Re-read the item and count the attempt in one transaction: an edit made meanwhile
      // either landed before (and is sent now) or finds attempts > 0 and queues a new write.
      var item = await state.db.queueUpdate(items[i].seq, function (current) {
        if (current.status !== "pending") return false;
        current.attempts += 1;
      });
      if (!item) continue;
      var response;
      try {
        response = await send(item);
      } catch (error) {
        await state.db.queueUpdate(item.seq, function (current) {
          current.lastError = gettext("No connection; it will be sent later.");
        });
        summary.stoppedBy = "offline";
        break;
      }
      var data = await readJSON(response).catch(function () { return {}; });
      if (response.status === 403 && !probed) {
        probed = true;
        var session = await probeSession();
        if (session === "signed-out") { summary.stoppedBy = "signed-out"; break; }
        if (session === "offline") { summary.stoppedBy = "offline"; break; }
        if (session === "refreshed") {
          // The same UUID and body again, now with the current token.
          await state.db.queueUpdate(item.seq, function (current) { current.attempts -= 1; });
          i -= 1;
          continue;
        }
      }
      if (response.ok) {
        await apply(item, data);
        await state.db.queueDelete(item.seq);
        summary.sent += 1;
        summary.visits[item.visitId] = true;
        emit("sent", { item: item, data: data });
        continue;
      }
      if (PERMANENT.indexOf(response.status) >= 0 || response.status === 403) {
        await fail(item.seq, messageOf(data, response.status));
        summary.failed += 1;
        summary.visits[item.visitId] = true;
        continue;
      }
      // 5xx, 408, 429…: the server could not answer now; keep it and try again later.
      await state.db.queueUpdate(item.seq, function (current) {
        current.lastError = interpolate(gettext("The server is busy (%s); it will be sent later."),
          [response.status]);
      });
      summary.stoppedBy = "server";
      break;
    }
    return summary;
  }

  // --- downloads -------------------------------------------------------------------------

  async function refreshList() {
    var url = state.urls.visits + "?assigned=me&page_size=100";
    var results = [];
    for (var page = 0; url && page < 10; page++) {
      var answer = await getJSON(url);
      if (!answer.ok || answer.fromCache) return null;
      results = results.concat(answer.data.results || []);
      url = answer.data.next;
    }
    await state.db.setMeta("visitList", { results: results, savedAt: Date.now() });
    emit("list", {});
    return results;
  }

  async function refreshVisit(id) {
    var started = Date.now();
    var answer = await getJSON(state.urls.visits + Number(id) + "/");
    if (answer.fromCache) return { ok: false, offline: true };
    if (!answer.ok) return { ok: false, status: answer.status, message: messageOf(answer.data, answer.status) };
    await state.db.saveFetchedVisit(answer.data, started);
    emit("visit", { id: Number(id) });
    return { ok: true };
  }

  // Keep the open visits on the phone, so that any of them can be opened without a signal.
  async function prefetchVisits(list, alsoId) {
    var ids = {};
    (list || []).forEach(function (visit) {
      if (visit.state === "planned" || visit.state === "in_progress") ids[visit.id] = true;
    });
    if (alsoId) ids[alsoId] = true;
    var keys = Object.keys(ids).slice(0, 30);
    for (var i = 0; i < keys.length; i++) {
      var stored = await state.db.getVisit(keys[i]);
      if (stored && Number(keys[i]) !== Number(alsoId) && Date.now() - (stored._savedAt || 0) < 60000) continue;
      try { await refreshVisit(keys[i]); } catch (e) { return; }
    }
  }

  // --- one sync --------------------------------------------------------------------------

  async function syncOnce(options) {
    if (navigator.onLine === false) {
      setPhase("offline");
      return { stoppedBy: "offline" };
    }
    setPhase("syncing");
    var summary = await round();
    if (summary.stoppedBy === "signed-out") {
      setPhase("signed-out", gettext("Your session has ended. Sign in again to sync."));
    } else if (summary.stoppedBy === "offline") {
      setPhase("offline");
    } else {
      try {
        if (options && options.refresh) {
          var list = await refreshList();
          if (list) await prefetchVisits(list, options.visitId);
        } else {
          var touched = Object.keys(summary.visits);
          if (options && options.visitId) touched.push(String(options.visitId));
          for (var i = 0; i < touched.length; i++) await refreshVisit(touched[i]);
        }
      } catch (e) {
        // a download that fails is retried on the next round; the queue is what matters
      }
      if (summary.stoppedBy === "server") {
        setPhase("retrying", gettext("The server could not take the data now; it will retry."));
      } else {
        state.lastSync = new Date();
        await state.db.setMeta("lastSync", state.lastSync.toISOString());
        setPhase("idle", "");
      }
    }
    emit("synced", summary);
    return summary;
  }

  // One sync at a time, across the tabs of this browser too. A request during a round runs
  // another round after it (what was recorded meanwhile is not left for the timer).
  function run(options) {
    if (state.running) {
      state.again = Object.assign(state.again || {}, options || {});
      return state.running;
    }
    var job = function () { return syncOnce(options); };
    var promise = navigator.locks && navigator.locks.request
      ? navigator.locks.request("wuwu-m-sync-u" + state.userId, { ifAvailable: true }, function (lock) {
        return lock ? job() : { stoppedBy: "busy" };
      })
      : job();
    state.running = Promise.resolve(promise).catch(function (error) {
      setPhase("retrying", String(error && error.message || error));
      return { stoppedBy: "error" };
    }).then(function (summary) {
      state.running = null;
      if (state.again) {
        var next = state.again;
        state.again = null;
        if (summary.stoppedBy !== "offline" && summary.stoppedBy !== "signed-out") run(next);
      }
      return summary;
    });
    return state.running;
  }

  // --- failed items ----------------------------------------------------------------------

  function retry(seqs) {
    return state.db.queueRequeue(seqs).then(function () { emit("queue", {}); });
  }

  function discard(seqs) {
    return state.db.queueDelete(seqs).then(function () { emit("queue", {}); });
  }

  function init(options) {
    state.db = options.db;
    state.csrf = options.csrf;
    state.userId = options.userId;
    state.urls = options.urls;
    return state.db.getMeta("lastSync", null).then(function (value) {
      state.lastSync = value ? new Date(value) : null;
    });
  }

  window.WuwuSync = {
    init: init,
    uuid4: uuid4,
    enqueueJSON: enqueueJSON,
    enqueuePhoto: enqueuePhoto,
    counts: counts,
    run: run,
    refreshList: refreshList,
    refreshVisit: refreshVisit,
    retry: retry,
    discard: discard,
    state: state,
  };
})();
