// 五五督查 mobile: the pages. Everything shown comes from IndexedDB — the last visit detail the
// server sent, with the queued writes laid over it — so the inspector sees what they recorded
// at once, online or not; what has not reached the server yet is marked "not synced".
(function () {
  "use strict";

  var body = document.body;
  var cfg = {
    csrf: body.dataset.csrf,
    userId: body.dataset.userId,
    home: body.dataset.homeUrl,
    sw: body.dataset.swUrl,
    login: body.dataset.loginUrl,
    logout: body.dataset.logoutUrl,
    visits: body.dataset.apiVisits,
    findings: body.dataset.apiFindings,
    photos: body.dataset.apiPhotos,
  };
  var PHOTO_MAX_SIDE = 1600;
  var PHOTO_QUALITY = 0.85;
  var FIX_MAX_AGE_MS = 15 * 60 * 1000;
  var SYNC_EVERY_MS = 30000;
  var LIST_EVERY_MS = 5 * 60 * 1000;

  var db = null;
  var Sync = window.WuwuSync;
  var view = { route: null, visitId: null, visit: null, built: null, findingItem: null };
  var blobUrls = {}; // client UUID of a queued photo -> object URL of its blob
  var seenBlobs = {};
  var lastListRefresh = 0;
  var renderTimer = null;

  // --- small helpers ---------------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function clone(id) { return $(id).content.firstElementChild.cloneNode(true); }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function todayISO() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function fmtDateTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function fmtTime(date) { return pad(date.getHours()) + ":" + pad(date.getMinutes()); }

  function labelOf(choices, value) {
    var list = choices || [];
    for (var i = 0; i < list.length; i++) if (list[i][0] === value) return list[i][1];
    return value || "";
  }

  function online() { return navigator.onLine !== false; }

  var toastTimer = null;
  function toast(message) {
    var node = $("toast");
    node.textContent = message;
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { node.hidden = true; }, 2500);
  }

  // A confirmation in a <dialog> (resolves true for OK).
  function confirmDialog(message, okLabel) {
    var dialog = $("confirm-dialog");
    $("confirm-text").textContent = message;
    $("confirm-ok").textContent = okLabel || gettext("OK");
    return new Promise(function (resolve) {
      if (typeof dialog.showModal !== "function") {
        resolve(window.confirm(message));
        return;
      }
      dialog.returnValue = "";
      dialog.addEventListener("close", function handler() {
        dialog.removeEventListener("close", handler);
        resolve(dialog.returnValue === "ok");
      });
      dialog.showModal();
    });
  }

  function stateBadgeClass(state) {
    return {
      planned: "text-bg-secondary",
      in_progress: "text-bg-primary",
      submitted: "text-bg-success",
      cancelled: "text-bg-dark",
    }[state] || "text-bg-secondary";
  }

  function severityClass(severity) {
    return { general: "text-bg-info", serious: "text-bg-warning", major: "text-bg-danger" }[severity] ||
      "text-bg-secondary";
  }

  function scheduleRender() {
    clearTimeout(renderTimer);
    renderTimer = setTimeout(function () { render().catch(showError); }, 30);
  }

  function showError(error) {
    if (window.console) console.error(error); // eslint-disable-line no-console
  }

  // --- the local view of a visit ---------------------------------------------------------

  // The stored detail with the queued writes of this visit laid over it, in order.
  function overlay(detail, items) {
    var v = JSON.parse(JSON.stringify(detail));
    v.results = v.results || [];
    v.findings = v.findings || [];
    v.photos = v.photos || [];
    v._pending = 0;
    v._failed = 0;
    v._failures = [];
    items.forEach(function (item) {
      if (item.visitId !== v.id) return;
      var flag = item.status === "failed" ? "failed" : "pending";
      if (flag === "failed") {
        v._failed += 1;
        v._failures.push(item);
      } else {
        v._pending += 1;
      }
      var b = item.body || {};
      if (item.kind === "checkin") {
        if (flag === "failed") return;
        if (v.state === "planned") {
          v.state = "in_progress";
          v.state_display = gettext("On site");
        }
        if (!v.checkin) {
          v.checkin = { at: b.at, latitude: b.latitude, longitude: b.longitude, accuracy_m: b.accuracy,
            distance_m: null, far: null, _local: flag };
        }
      } else if (item.kind === "result") {
        var result = { item: b.item, outcome: b.outcome, note: b.note, client_uuid: b.client_uuid,
          _local: flag, _error: item.lastError, _seq: item.seq };
        var found = false;
        for (var i = 0; i < v.results.length; i++) {
          if (v.results[i].item === b.item) { v.results[i] = result; found = true; }
        }
        if (!found) v.results.push(result);
      } else if (item.kind === "finding") {
        if (v.findings.some(function (f) { return f.client_uuid === b.client_uuid; })) return;
        v.findings.push(Object.assign({}, b, { id: null, state: "draft", _local: flag, _error: item.lastError,
          _seq: item.seq }));
      } else if (item.kind === "photo") {
        var f = item.fields || {};
        if (v.photos.some(function (p) { return p.client_uuid === f.client_uuid; })) return;
        v.photos.push({ client_uuid: f.client_uuid, finding: f.finding ? Number(f.finding) : null,
          _findingClientUuid: f.finding_client_uuid || null, item: f.item ? Number(f.item) : null,
          kind: f.kind, _blob: item.blob, _local: flag, _error: item.lastError, _seq: item.seq });
      } else if (item.kind === "submit") {
        if (flag === "failed") return;
        v.state = "submitted";
        v.state_display = gettext("Submitted");
        v.summary = b.summary;
        v._submitPending = true;
      }
    });
    v._editable = v.state === "in_progress" && !v._submitPending;
    return v;
  }

  function allItems(v) {
    var items = [];
    (v.checklists || []).forEach(function (checklist) {
      (checklist.items || []).slice().sort(function (a, b) { return a.position - b.position || a.id - b.id; })
        .forEach(function (item) { items.push(item); });
    });
    return items;
  }

  function resultFor(v, itemId) {
    for (var i = 0; i < v.results.length; i++) if (v.results[i].item === itemId) return v.results[i];
    return null;
  }

  function findingKey(f) { return f.client_uuid ? "u:" + f.client_uuid : "i:" + f.id; }

  function photosOfFinding(v, f) {
    return v.photos.filter(function (p) {
      return (f.id && p.finding === f.id) || (f.client_uuid && p._findingClientUuid === f.client_uuid);
    });
  }

  function photosOfItem(v, itemId) {
    return v.photos.filter(function (p) {
      return p.item === itemId && !p.finding && !p._findingClientUuid;
    });
  }

  // --- routing ---------------------------------------------------------------------------

  function parseRoute() {
    var path = window.location.pathname;
    var match = new RegExp("^" + cfg.home.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "visits/(\\d+)/?$").exec(path);
    if (match) return { name: "visit", id: Number(match[1]) };
    return { name: "home" };
  }

  function visitUrl(id) { return cfg.home + "visits/" + id + "/"; }

  function navigate(url) {
    if (url !== window.location.pathname) window.history.pushState({}, "", url);
    closeFindingForm(true);
    view.built = null;
    window.scrollTo(0, 0);
    render().then(function () {
      // A visit opened online is fetched fresh (and so kept for offline use).
      if (view.visitId && online()) Sync.run({ visitId: view.visitId });
    }).catch(showError);
  }

  function showPage(id) {
    ["page-loading", "page-error", "page-list", "page-visit", "page-finding"].forEach(function (page) {
      $(page).hidden = page !== id;
    });
  }

  async function render() {
    var route = parseRoute();
    view.route = route.name;
    view.visitId = route.id || null;
    await paintCounts();
    if (!$("page-finding").hidden) return; // the form stays until saved or cancelled
    if (route.name === "visit") {
      await renderVisit(route.id);
    } else {
      await renderList();
    }
  }

  // --- the visit list --------------------------------------------------------------------

  async function renderList() {
    var stored = await db.getMeta("visitList", null);
    var queue = await db.queueAll();
    var groups = $("visit-groups");
    groups.textContent = "";
    showPage("page-list");
    $("list-never").hidden = !!stored;
    $("list-updated").textContent = stored
      ? interpolate(gettext("Updated %s"), [fmtDateTime(new Date(stored.savedAt).toISOString())]) : "";
    if (!stored) { $("list-empty").hidden = true; return; }
    var today = todayISO();
    var buckets = { in_progress: [], today: [], upcoming: [], submitted: [] };
    stored.results.forEach(function (visit) {
      var local = overlay(Object.assign({ results: [], findings: [], photos: [] }, visit), queue);
      if (local.state === "cancelled") return;
      if (local.state === "in_progress") buckets.in_progress.push(local);
      else if (local.state === "submitted") buckets.submitted.push(local);
      else if (!local.scheduled_date || local.scheduled_date > today) buckets.upcoming.push(local);
      else buckets.today.push(local);
    });
    var titles = {
      in_progress: gettext("In progress"),
      today: gettext("Today"),
      upcoming: gettext("Upcoming"),
      submitted: gettext("Submitted"),
    };
    var shown = 0;
    Object.keys(buckets).forEach(function (key) {
      var list = buckets[key];
      if (!list.length) return;
      list.sort(function (a, b) { return (a.scheduled_date || "9").localeCompare(b.scheduled_date || "9"); });
      if (key === "submitted") list = list.reverse().slice(0, 10);
      var section = el("section", "m-group");
      section.dataset.group = key;
      section.appendChild(el("h2", "m-h2", titles[key] + " · " + list.length));
      list.forEach(function (visit) {
        var card = clone("tpl-visit-card");
        card.href = visitUrl(visit.id);
        card.dataset.visitId = visit.id;
        card.querySelector(".m-visit-card-target").textContent = visit.target.name;
        card.querySelector(".m-visit-card-plan").textContent = visit.plan.title;
        var meta = [visit.plan.method_display, visit.scheduled_date || gettext("Date not set")];
        if (visit.target.institution_type_display) meta.unshift(visit.target.institution_type_display);
        card.querySelector(".m-visit-card-meta").textContent = meta.filter(Boolean).join(" · ");
        var badge = card.querySelector(".m-visit-card-state");
        badge.textContent = visit.state_display;
        badge.className = "badge m-visit-card-state " + stateBadgeClass(visit.state);
        var unsynced = visit._pending + visit._failed;
        var flag = card.querySelector(".m-visit-card-unsynced");
        flag.hidden = !unsynced;
        flag.textContent = interpolate(gettext("%s not synced"), [unsynced]);
        section.appendChild(card);
        shown += 1;
      });
      groups.appendChild(section);
    });
    $("list-empty").hidden = shown > 0;
  }

  // --- one visit -------------------------------------------------------------------------

  async function renderVisit(id) {
    var detail = await db.getVisit(id);
    if (!detail) {
      showPage("page-loading");
      if (online()) {
        var answer = await Sync.refreshVisit(id).catch(function () { return { ok: false, offline: true }; });
        if (answer.ok) detail = await db.getVisit(id);
        else if (answer.message && !answer.offline) return fail(answer.message);
      }
      if (parseRoute().id !== id) return;
      if (!detail) {
        return fail(gettext("This visit has not been downloaded to this phone. Connect to the network and open it once."));
      }
    }
    var queue = await db.queueAll();
    if (parseRoute().id !== id) return;
    var v = overlay(detail, queue);
    view.visit = v;
    showPage("page-visit");
    paintHead(v);
    paintCheckin(v);
    var signature = v.id + ":" + allItems(v).map(function (i) { return i.id; }).join(",");
    if (view.built !== signature) {
      buildChecklist(v);
      view.built = signature;
    }
    seenBlobs = {};
    allItems(v).forEach(function (item) {
      var card = $("item-" + item.id);
      if (card) paintItem(card, item, v);
    });
    paintProgress(v);
    paintFindings(v);
    paintVisitPhotos(v);
    paintSubmit(v);
    releaseBlobUrls();

    function fail(message) {
      $("page-error-text").textContent = message;
      showPage("page-error");
    }
  }

  function paintHead(v) {
    $("visit-target").textContent = v.target.name;
    $("visit-plan").textContent = [v.plan.title, v.plan.method_display].filter(Boolean).join(" · ");
    $("visit-address").textContent = v.target.address || "";
    $("visit-address").hidden = !v.target.address;
    var state = $("visit-state");
    state.textContent = v.state_display;
    state.className = "badge " + stateBadgeClass(v.state);
    state.dataset.state = v.state;
    var unsynced = $("visit-unsynced");
    unsynced.hidden = !(v._pending + v._failed);
    unsynced.textContent = v._failed
      ? interpolate(gettext("Not synced: %(pending)s, failed: %(failed)s"), { pending: v._pending, failed: v._failed }, true)
      : interpolate(gettext("Not synced: %s"), [v._pending]);
    var alert = $("visit-alert");
    if (v._failures.length) {
      alert.textContent = interpolate(ngettext(
        "%s record was not accepted by the server. Open the sync panel to see why.",
        "%s records were not accepted by the server. Open the sync panel to see why.", v._failures.length),
      [v._failures.length]);
      alert.hidden = false;
    } else {
      alert.hidden = true;
    }
    document.title = v.target.name + " · " + gettext("On-site inspection");
  }

  function paintCheckin(v) {
    var info = $("checkin-info");
    var button = $("checkin-btn");
    info.textContent = "";
    if (v.checkin) {
      var c = v.checkin;
      var rows = [
        [gettext("Checked in at"), fmtDateTime(c.at)],
        [gettext("Position"), Number(c.latitude).toFixed(5) + ", " + Number(c.longitude).toFixed(5)],
      ];
      if (c.accuracy_m !== null && c.accuracy_m !== undefined) {
        rows.push([gettext("Accuracy"), interpolate(gettext("±%s m"), [Math.round(c.accuracy_m)])]);
      }
      if (c.distance_m !== null && c.distance_m !== undefined) {
        rows.push([gettext("Distance from the unit"), interpolate(gettext("%s m"), [Math.round(c.distance_m)])]);
      }
      var dl = el("dl", "m-dl");
      rows.forEach(function (row) { dl.appendChild(el("dt", "", row[0])); dl.appendChild(el("dd", "", row[1])); });
      info.appendChild(dl);
      if (c.far) {
        info.appendChild(el("p", "m-flag m-flag-warn",
          gettext("The check-in position is far from the unit's address; the office will see this.")));
      }
      if (c._local) info.appendChild(el("p", "m-flag", gettext("Not synced")));
      button.hidden = true;
    } else {
      button.hidden = v.state !== "planned";
      button.disabled = false;
    }
    var failedCheckin = v._failures.filter(function (i) { return i.kind === "checkin"; })[0];
    if (failedCheckin) {
      info.appendChild(el("p", "m-flag m-flag-failed", gettext("Check-in failed:") + " " + failedCheckin.lastError));
    }
  }

  function buildChecklist(v) {
    var container = $("checklist");
    container.textContent = "";
    var items = allItems(v);
    if (!items.length) {
      container.appendChild(el("p", "m-hint", gettext("This visit has no checklist.")));
      return;
    }
    var names = (v.checklists || []).map(function (c) { return c.name + " V" + c.version; }).join("；");
    container.appendChild(el("p", "m-muted", names));
    var order = (v.choices && v.choices.bottom_line || []).map(function (c) { return c[0]; });
    var groups = {};
    items.forEach(function (item) {
      (groups[item.bottom_line] = groups[item.bottom_line] || []).push(item);
    });
    var keys = Object.keys(groups).sort(function (a, b) {
      var ia = order.indexOf(a);
      var ib = order.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    });
    var number = 0;
    keys.forEach(function (key) {
      var group = el("section", "m-line-group");
      group.dataset.bottomLine = key;
      group.appendChild(el("h3", "m-line-title", groups[key][0].bottom_line_display ||
        labelOf(v.choices && v.choices.bottom_line, key)));
      groups[key].forEach(function (item) {
        number += 1;
        var card = clone("tpl-item");
        card.id = "item-" + item.id;
        card.dataset.itemId = item.id;
        card.querySelector(".m-item-no").textContent = number;
        card.querySelector(".m-item-text").textContent = item.text;
        var more = card.querySelector(".m-item-more");
        card.querySelector(".m-item-guidance").textContent = item.guidance || "";
        card.querySelector(".m-item-basis").textContent = item.legal_basis
          ? gettext("Basis:") + " " + item.legal_basis : "";
        more.hidden = !(item.guidance || item.legal_basis);
        var input = card.querySelector(".m-item-photo-input");
        input.dataset.itemId = item.id;
        input.id = "item-photo-" + item.id;
        watchFileInput(input);
        group.appendChild(card);
      });
      container.appendChild(group);
    });
  }

  function photoStrip(container, photos) {
    container.textContent = "";
    photos.forEach(function (photo) {
      var figure = el("figure", "m-thumb");
      var img = el("img");
      img.alt = photo.kind === "after" ? gettext("Photo after the fix") : gettext("Evidence photo");
      img.loading = "lazy";
      if (photo._blob) {
        if (!blobUrls[photo.client_uuid]) blobUrls[photo.client_uuid] = URL.createObjectURL(photo._blob);
        seenBlobs[photo.client_uuid] = true;
        img.src = blobUrls[photo.client_uuid];
      } else if (photo.thumbnail_url) {
        img.src = photo.thumbnail_url;
      }
      figure.appendChild(img);
      if (photo.kind === "after") figure.appendChild(el("span", "m-thumb-tag", gettext("After")));
      if (photo._local) {
        var tag = el("span", "m-thumb-flag " + (photo._local === "failed" ? "m-thumb-failed" : ""),
          photo._local === "failed" ? gettext("Failed") : gettext("Not synced"));
        figure.appendChild(tag);
        figure.dataset.local = photo._local;
      }
      container.appendChild(figure);
    });
    container.hidden = !photos.length;
  }

  // Free the object URLs of queued photos no longer shown (sent, or discarded).
  function releaseBlobUrls() {
    Object.keys(blobUrls).forEach(function (key) {
      if (seenBlobs[key]) return;
      URL.revokeObjectURL(blobUrls[key]);
      delete blobUrls[key];
    });
  }

  // A file input gets its own listener: the camera may stay open across a re-render, and the
  // change event of an input taken out of the page would not reach a listener on the document.
  function watchFileInput(input) {
    input.addEventListener("change", function () {
      addPhotos(input).catch(function (error) {
        showError(error);
        toast(gettext("The photo could not be read. Try again."));
      });
    });
  }

  function paintItem(card, item, v) {
    var result = resultFor(v, item.id);
    var outcome = result ? result.outcome : "";
    card.dataset.outcome = outcome;
    card.querySelectorAll(".m-seg-btn").forEach(function (button) {
      var on = button.dataset.outcome === outcome;
      button.classList.toggle("active", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.disabled = !v._editable;
    });
    var note = card.querySelector(".m-item-note");
    if (document.activeElement !== note) {
      var draft = view.drafts && view.drafts[v.id + ":" + item.id];
      note.value = result ? result.note || "" : draft || "";
    }
    note.disabled = !v._editable;
    note.hidden = !v._editable && !note.value;
    photoStrip(card.querySelector(".m-item-photos"), photosOfItem(v, item.id));
    var findings = v.findings.filter(function (f) { return f.item === item.id; });
    var list = card.querySelector(".m-item-findings");
    list.textContent = "";
    findings.forEach(function (f) {
      var chip = el("a", "m-chip", f.title);
      chip.href = "#finding-" + findingKey(f).replace(":", "-");
      chip.prepend(el("i", "bi bi-exclamation-triangle me-1"));
      list.appendChild(chip);
    });
    card.querySelector(".m-item-record").hidden = !(v._editable && outcome === "fail");
    card.querySelector(".m-item-actions").hidden = !v._editable;
    var flag = card.querySelector(".m-item-flag");
    if (result && result._local === "failed") {
      flag.textContent = gettext("Not accepted:") + " " + result._error;
      flag.className = "m-flag m-flag-failed m-item-flag";
      flag.hidden = false;
    } else if (result && result._local) {
      flag.textContent = gettext("Not synced");
      flag.className = "m-flag m-item-flag";
      flag.hidden = false;
    } else {
      flag.hidden = true;
    }
  }

  function paintProgress(v) {
    var items = allItems(v);
    var answered = items.filter(function (item) { return resultFor(v, item.id); }).length;
    $("checklist-progress").textContent = items.length ? answered + "/" + items.length : "";
    $("checklist-progress").dataset.answered = answered;
    $("checklist-locked").hidden = v.state !== "planned";
  }

  function paintFindings(v) {
    var list = $("findings-list");
    var signature = JSON.stringify([v.id, v._editable, v.findings, v.photos.map(function (p) {
      return [p.uuid, p.client_uuid, p.finding, p._findingClientUuid, p._local, p.kind, p.thumbnail_url];
    })]);
    if (list.dataset.signature === signature) {
      v.photos.forEach(function (p) { if (p._blob && blobUrls[p.client_uuid]) seenBlobs[p.client_uuid] = true; });
      $("findings-empty").hidden = v.findings.length > 0;
      $("add-finding").hidden = !v._editable;
      return;
    }
    list.dataset.signature = signature;
    list.textContent = "";
    var items = {};
    allItems(v).forEach(function (item) { items[item.id] = item; });
    v.findings.forEach(function (f) {
      var card = clone("tpl-finding");
      card.id = "finding-" + findingKey(f).replace(":", "-");
      card.dataset.findingUuid = f.client_uuid || "";
      card.dataset.findingId = f.id || "";
      card.dataset.source = f.item ? "checklist" : "adhoc";
      var sev = card.querySelector(".m-sev");
      sev.textContent = f.severity_display || labelOf(v.choices && v.choices.severity, f.severity);
      sev.className = "badge m-sev " + severityClass(f.severity);
      card.querySelector(".m-finding-title").textContent = f.title;
      var meta = [
        f.bottom_line_display || labelOf(v.choices && v.choices.bottom_line, f.bottom_line),
        f.category_display || labelOf(v.choices && v.choices.category, f.category),
        f.disposition_display || labelOf(v.choices && v.choices.disposition, f.disposition),
      ];
      if (f.disposition === "transferred" && f.transferred_to) {
        var dept = (v.departments || []).filter(function (d) { return d.id === Number(f.transferred_to); })[0];
        if (dept) meta.push(dept.name);
      }
      if (f.item && items[f.item]) meta.push(gettext("Checklist item") + " " + ($("item-" + f.item) ?
        $("item-" + f.item).querySelector(".m-item-no").textContent : ""));
      if (f.code) meta.push(f.code);
      card.querySelector(".m-finding-meta").textContent = meta.filter(Boolean).join(" · ");
      var desc = [f.description, f.location ? gettext("Where:") + " " + f.location : "",
        f.fix_note ? gettext("Fixed:") + " " + f.fix_note : ""].filter(Boolean).join("\n");
      card.querySelector(".m-finding-desc").textContent = desc;
      card.querySelector(".m-finding-desc").hidden = !desc;
      photoStrip(card.querySelector(".m-finding-photos"), photosOfFinding(v, f));
      card.querySelector(".m-finding-actions").hidden = !v._editable || f._local === "failed";
      card.querySelector(".m-finding-after").hidden = f.disposition !== "fixed_on_site";
      card.querySelectorAll(".m-file").forEach(function (input) {
        watchFileInput(input);
        input.dataset.findingUuid = f.client_uuid || "";
        input.dataset.findingId = f.id || "";
        if (f.item) input.dataset.itemId = f.item;
      });
      var flag = card.querySelector(".m-finding-flag");
      if (f._local === "failed") {
        flag.textContent = gettext("Not accepted:") + " " + f._error;
        flag.className = "m-flag m-flag-failed m-finding-flag";
        flag.hidden = false;
      } else if (f._local) {
        flag.textContent = gettext("Not synced");
        flag.className = "m-flag m-finding-flag";
        flag.hidden = false;
      }
      list.appendChild(card);
    });
    $("findings-empty").hidden = v.findings.length > 0;
    $("add-finding").hidden = !v._editable;
  }

  function paintVisitPhotos(v) {
    var photos = v.photos.filter(function (p) { return !p.item && !p.finding && !p._findingClientUuid; });
    photoStrip($("visit-photos"), photos);
    $("visit-photo-label").hidden = !v._editable;
    $("visit-photos-section").hidden = !v._editable && !photos.length;
  }

  function paintSubmit(v) {
    var summary = $("visit-summary");
    if (document.activeElement !== summary) {
      var draft = view.drafts && view.drafts["summary:" + v.id];
      summary.value = v.summary || draft || "";
    }
    summary.disabled = !v._editable;
    $("submit-btn").hidden = !v._editable;
    var hint = $("submit-hint");
    if (v._submitPending) {
      hint.textContent = gettext("Submitted on this phone; it is filed when it reaches the server.");
    } else if (v.state === "submitted") {
      hint.textContent = interpolate(gettext("Submitted at %s."), [fmtDateTime(v.submitted_at)]);
    } else if (v.state === "planned") {
      hint.textContent = gettext("Check in first.");
    } else {
      hint.textContent = "";
    }
    $("submit-section").hidden = v.state === "planned";
  }

  // --- actions: check-in -----------------------------------------------------------------

  function locate() {
    return new Promise(function (resolve, reject) {
      if (!navigator.geolocation) {
        reject({ code: 0 });
        return;
      }
      navigator.geolocation.getCurrentPosition(resolve, reject,
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
    });
  }

  function geoMessage(error) {
    if (error && error.code === 1) return gettext("Location permission is denied. Allow it in the browser settings and try again.");
    if (error && error.code === 2) return gettext("The position is not available. Go outdoors or near a window and try again.");
    if (error && error.code === 3) return gettext("Locating took too long. Try again.");
    return gettext("This browser cannot tell the position.");
  }

  function rememberFix(position) {
    var fix = {
      latitude: Number(position.coords.latitude.toFixed(6)),
      longitude: Number(position.coords.longitude.toFixed(6)),
      accuracy: Math.round(position.coords.accuracy * 10) / 10,
      at: Date.now(),
    };
    return db.setMeta("lastFix", fix).then(function () { return fix; });
  }

  async function checkIn() {
    var v = view.visit;
    if (!v || v.state !== "planned" || v.checkin) return;
    var button = $("checkin-btn");
    var message = $("checkin-msg");
    button.disabled = true;
    message.textContent = gettext("Locating… (up to 15 seconds)");
    var position;
    try {
      position = await locate();
    } catch (error) {
      message.textContent = geoMessage(error);
      button.disabled = false;
      return;
    }
    var fix = await rememberFix(position);
    message.textContent = interpolate(gettext("Position found, accurate to about %s m."), [Math.round(fix.accuracy)]);
    if (fix.accuracy > 100) {
      var ok = await confirmDialog(interpolate(
        gettext("The position is only accurate to about %s m. Check in anyway?"), [Math.round(fix.accuracy)]));
      if (!ok) { button.disabled = false; return; }
    }
    await Sync.enqueueJSON("checkin", cfg.visits + v.id + "/checkin/", v.id, {
      at: new Date().toISOString(),
      latitude: Number(position.coords.latitude.toFixed(7)),
      longitude: Number(position.coords.longitude.toFixed(7)),
      accuracy: fix.accuracy,
    }, { coalesceKey: "checkin:" + v.id });
    toast(gettext("Checked in. Saved on this phone."));
    kickSync();
  }

  // --- actions: results ------------------------------------------------------------------

  async function recordResult(itemId, outcome, note) {
    var v = view.visit;
    if (!v || !v._editable) return;
    await Sync.enqueueJSON("result", cfg.visits + v.id + "/results/", v.id,
      { item: itemId, outcome: outcome, note: note || "" },
      { coalesceKey: "result:" + v.id + ":" + itemId, itemId: itemId });
    if (view.drafts) delete view.drafts[v.id + ":" + itemId];
    await db.setMeta("drafts", view.drafts || {});
    kickSync();
  }

  // --- actions: findings -----------------------------------------------------------------

  function fillSelect(select, choices, value, emptyLabel) {
    select.textContent = "";
    if (emptyLabel) {
      var empty = el("option", "", emptyLabel);
      empty.value = "";
      select.appendChild(empty);
    }
    (choices || []).forEach(function (choice) {
      var option = el("option", "", choice[1]);
      option.value = choice[0];
      select.appendChild(option);
    });
    select.value = value || "";
  }

  function fillSegments(container, name, choices, value) {
    container.textContent = "";
    (choices || []).forEach(function (choice) {
      var button = el("button", "m-seg-btn", choice[1]);
      button.type = "button";
      button.dataset.value = choice[0];
      button.dataset.name = name;
      button.setAttribute("role", "radio");
      var on = choice[0] === value;
      button.setAttribute("aria-checked", on ? "true" : "false");
      button.classList.toggle("active", on);
      container.appendChild(button);
    });
    container.dataset.value = value || "";
  }

  function fillDispositions(container, choices, value) {
    container.textContent = "";
    (choices || []).forEach(function (choice) {
      var label = el("label", "m-choice");
      var input = el("input", "form-check-input");
      input.type = "radio";
      input.name = "disposition";
      input.value = choice[0];
      input.checked = choice[0] === value;
      label.appendChild(input);
      label.appendChild(el("span", "", choice[1]));
      container.appendChild(label);
    });
  }

  function openFindingForm(itemId) {
    var v = view.visit;
    if (!v || !v._editable) return;
    var item = itemId ? allItems(v).filter(function (i) { return i.id === itemId; })[0] : null;
    view.findingItem = item ? item.id : null;
    var form = $("finding-form");
    form.reset();
    $("f-errors").hidden = true;
    var ref = $("finding-item-ref");
    ref.hidden = !item;
    ref.textContent = item ? gettext("Checklist item:") + " " + item.text : "";
    $("f-title").value = item ? item.text.slice(0, 200) : "";
    var result = item ? resultFor(v, item.id) : null;
    $("f-description").value = result && result.note ? result.note : "";
    var choices = v.choices || {};
    fillSelect($("f-bottom-line"), choices.bottom_line, item ? item.bottom_line : "", gettext("Choose…"));
    fillSelect($("f-category"), choices.category, item ? item.category : "", gettext("Choose…"));
    fillSegments($("f-severity"), "severity", choices.severity, item ? item.default_severity : "general");
    fillDispositions($("f-disposition"), choices.disposition, "");
    var departments = (v.departments || []).map(function (d) { return [String(d.id), d.name]; });
    fillSelect($("f-department"), departments, "", gettext("Choose a department…"));
    paintDisposition();
    view.scrollBeforeForm = window.scrollY;
    showPage("page-finding");
    if (window.location.hash !== "#problem") window.history.pushState({ form: true }, "", "#problem");
    window.scrollTo(0, 0);
    $("f-title").focus();
  }

  function closeFindingForm(silent) {
    if ($("page-finding").hidden) return;
    $("page-finding").hidden = true;
    view.findingItem = null;
    if (silent) return;
    if (window.location.hash === "#problem") {
      window.history.back(); // popstate renders the visit again and restores the position
      return;
    }
    backFromForm();
  }

  // Back on the visit where the inspector was before the form.
  function backFromForm() {
    render().then(function () {
      if (view.scrollBeforeForm !== undefined) {
        window.scrollTo({ top: view.scrollBeforeForm, behavior: "instant" });
        view.scrollBeforeForm = undefined;
      }
    }).catch(showError);
  }

  function currentDisposition() {
    var checked = document.querySelector("#f-disposition input:checked");
    return checked ? checked.value : "";
  }

  function paintDisposition() {
    var value = currentDisposition();
    $("f-department-block").hidden = value !== "transferred";
    $("f-fix-block").hidden = value !== "fixed_on_site";
  }

  async function saveFinding(event) {
    event.preventDefault();
    var v = view.visit;
    if (!v || !v._editable) return;
    var errors = [];
    var title = $("f-title").value.trim();
    var disposition = currentDisposition();
    var department = $("f-department").value;
    if (!title) errors.push(gettext("Describe the problem in a few words."));
    if (!$("f-bottom-line").value) errors.push(gettext("Choose the bottom line."));
    if (!$("f-category").value) errors.push(gettext("Choose the category."));
    if (!disposition) errors.push(gettext("Choose what is to be done."));
    if (disposition === "transferred" && !department) errors.push(gettext("Choose the department."));
    if (errors.length) {
      $("f-errors").textContent = errors.join(" ");
      $("f-errors").hidden = false;
      return;
    }
    await Sync.enqueueJSON("finding", cfg.findings, v.id, {
      visit: v.id,
      item: view.findingItem,
      bottom_line: $("f-bottom-line").value,
      category: $("f-category").value,
      severity: $("f-severity").dataset.value || "general",
      title: title,
      description: $("f-description").value.trim(),
      location: $("f-location").value.trim(),
      found_at: new Date().toISOString(),
      disposition: disposition,
      transferred_to: disposition === "transferred" ? Number(department) : null,
      fix_note: disposition === "fixed_on_site" ? $("f-fix-note").value.trim() : "",
    });
    toast(gettext("The problem is saved on this phone."));
    closeFindingForm(false);
    kickSync();
  }

  // --- actions: photos -------------------------------------------------------------------

  // Downscale on the phone (longest side 1600 px, JPEG 0.85). Re-encoding drops EXIF, so the
  // capture time and the last GPS fix are sent as fields instead.
  async function downscale(file) {
    var source = null;
    var width = 0;
    var height = 0;
    var url = null;
    if (typeof createImageBitmap === "function") {
      try {
        source = await createImageBitmap(file, { imageOrientation: "from-image" });
        width = source.width;
        height = source.height;
      } catch (e) {
        source = null;
      }
    }
    if (!source) {
      url = URL.createObjectURL(file);
      var img = new Image();
      img.src = url;
      await img.decode();
      source = img;
      width = img.naturalWidth;
      height = img.naturalHeight;
    }
    try {
      var scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(width, height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
      var blob = await new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", PHOTO_QUALITY); });
      if (!blob) throw new Error("toBlob failed");
      return blob;
    } finally {
      if (source && typeof source.close === "function") source.close();
      if (url) URL.revokeObjectURL(url);
    }
  }

  async function addPhotos(input) {
    var v = view.visit;
    var files = Array.prototype.slice.call(input.files || []);
    var context = {
      kind: input.dataset.kind || "evidence",
      itemId: input.dataset.itemId ? Number(input.dataset.itemId) : null,
      findingUuid: input.dataset.findingUuid || "",
      findingId: input.dataset.findingId || "",
    };
    input.value = "";
    if (!v || !v._editable || !files.length) return;
    var fix = await db.getMeta("lastFix", null);
    var fresh = fix && Date.now() - fix.at < FIX_MAX_AGE_MS;
    // Ask for a new fix for the next photo, without waiting for it.
    locate().then(rememberFix).catch(function () { return null; });
    for (var i = 0; i < files.length; i++) {
      var file = files[i];
      var blob;
      try {
        blob = await downscale(file);
      } catch (e) {
        blob = file; // a format this browser cannot draw (e.g. HEIC): the server converts it
      }
      var taken = file.lastModified ? new Date(file.lastModified) : new Date();
      await Sync.enqueuePhoto(v.id, blob, {
        kind: context.kind,
        item: context.itemId || "",
        finding_client_uuid: context.findingUuid,
        finding: context.findingUuid ? "" : context.findingId,
        captured_at: taken.toISOString(),
        latitude: fresh ? fix.latitude : "",
        longitude: fresh ? fix.longitude : "",
      });
    }
    toast(ngettext("The photo is saved on this phone.", "The photos are saved on this phone.", files.length));
    kickSync();
  }

  // --- actions: submit -------------------------------------------------------------------

  async function submitVisit() {
    var v = view.visit;
    if (!v || !v._editable) return;
    var missing = allItems(v).filter(function (item) { return !resultFor(v, item.id); }).length;
    if (missing) {
      $("submit-hint").textContent = interpolate(
        gettext("Record a result for every checklist item first (%s left)."), [missing]);
      return;
    }
    var ok = await confirmDialog(gettext("Submit this visit? After it is submitted nothing can be changed on the phone."),
      gettext("Submit"));
    if (!ok) return;
    await Sync.enqueueJSON("submit", cfg.visits + v.id + "/submit/", v.id,
      { summary: $("visit-summary").value.trim() }, { coalesceKey: "submit:" + v.id });
    if (view.drafts) delete view.drafts["summary:" + v.id];
    await db.setMeta("drafts", view.drafts || {});
    toast(gettext("Submitted on this phone; it is filed when it reaches the server."));
    kickSync();
  }

  // --- the sync panel --------------------------------------------------------------------

  var KIND_LABELS = {
    checkin: function () { return gettext("Check-in"); },
    result: function () { return gettext("Checklist result"); },
    finding: function () { return gettext("Problem"); },
    photo: function () { return gettext("Photo"); },
    submit: function () { return gettext("Submission"); },
  };

  async function describe(item, visits) {
    var visit = visits[item.visitId];
    if (visit === undefined) {
      visit = visits[item.visitId] = (await db.getVisit(item.visitId)) || null;
    }
    var parts = [KIND_LABELS[item.kind] ? KIND_LABELS[item.kind]() : item.kind];
    if (item.kind === "result" && visit) {
      var found = allItems(visit).filter(function (i) { return i.id === item.body.item; })[0];
      if (found) parts.push(found.text);
    } else if (item.kind === "finding") {
      parts.push(item.body.title);
    }
    if (visit) parts.push(visit.target.name);
    return parts.join(" · ");
  }

  async function paintCounts() {
    var counts = await Sync.counts();
    var badge = $("sync-status");
    badge.dataset.pending = counts.pending;
    badge.dataset.failed = counts.failed;
    $("sync-counts").textContent = interpolate(gettext("Pending %(pending)s / Failed %(failed)s"),
      { pending: counts.pending, failed: counts.failed }, true);
    badge.classList.toggle("m-has-failed", counts.failed > 0);
    badge.classList.toggle("m-has-pending", counts.pending > 0);
    if (!$("sync-panel").hidden) await paintPanel(counts.items);
  }

  async function paintPanel(items) {
    var visits = {};
    var failed = items.filter(function (i) { return i.status === "failed"; });
    var pending = items.filter(function (i) { return i.status !== "failed"; });
    var last = Sync.state.lastSync;
    $("sync-last").textContent = last
      ? interpolate(gettext("Last synced at %s"), [fmtDateTime(last.toISOString())])
      : gettext("Not synced yet on this phone.");
    $("sync-message").textContent = Sync.state.lastError || "";
    var list = $("failed-list");
    list.textContent = "";
    for (var i = 0; i < failed.length; i++) {
      var item = failed[i];
      var li = el("li", "m-failed");
      li.dataset.seq = item.seq;
      li.appendChild(el("strong", "d-block", await describe(item, visits)));
      li.appendChild(el("span", "m-failed-msg d-block", item.lastError));
      var actions = el("div", "d-flex gap-2 mt-2");
      var retry = el("button", "btn btn-outline-primary m-touch flex-fill", gettext("Retry"));
      retry.type = "button";
      retry.dataset.action = "retry";
      retry.dataset.seq = item.seq;
      var discard = el("button", "btn btn-outline-danger m-touch flex-fill", gettext("Discard"));
      discard.type = "button";
      discard.dataset.action = "discard";
      discard.dataset.seq = item.seq;
      actions.appendChild(retry);
      actions.appendChild(discard);
      li.appendChild(actions);
      list.appendChild(li);
    }
    $("failed-block").hidden = !failed.length;
    var plist = $("pending-list");
    plist.textContent = "";
    for (var j = 0; j < pending.length && j < 30; j++) {
      var row = el("li", "", await describe(pending[j], visits));
      if (pending[j].lastError) row.appendChild(el("span", "m-muted d-block", pending[j].lastError));
      plist.appendChild(row);
    }
    $("pending-block").hidden = !pending.length;
  }

  function paintStatus(detail) {
    var badge = $("sync-status");
    var phase = detail.phase;
    if (!online() && phase !== "syncing") phase = "offline";
    badge.dataset.phase = phase;
    var icon = badge.querySelector(".bi");
    icon.className = "bi " + ({
      idle: "bi-cloud-check",
      syncing: "bi-arrow-repeat m-spin",
      offline: "bi-cloud-slash",
      "signed-out": "bi-person-lock",
      retrying: "bi-cloud-arrow-up",
    }[phase] || "bi-cloud");
    $("offline-banner").hidden = online();
    $("signin-banner").hidden = phase !== "signed-out";
    $("sync-now").disabled = phase === "syncing";
  }

  async function discardItems(seq) {
    var items = await db.queueAll();
    var item = items.filter(function (i) { return i.seq === seq; })[0];
    if (!item) return;
    var seqs = [seq];
    var message = gettext("Discard this record? It has not reached the server and will be lost.");
    if (item.kind === "finding") {
      var photos = items.filter(function (i) {
        return i.kind === "photo" && i.fields && i.fields.finding_client_uuid === item.id;
      });
      if (photos.length) {
        seqs = seqs.concat(photos.map(function (p) { return p.seq; }));
        message = interpolate(ngettext(
          "Discard this problem and its %s photo? They have not reached the server and will be lost.",
          "Discard this problem and its %s photos? They have not reached the server and will be lost.",
          photos.length), [photos.length]);
      }
    }
    if (!(await confirmDialog(message, gettext("Discard")))) return;
    await Sync.discard(seqs);
  }

  // --- sync triggers ---------------------------------------------------------------------

  var kickTimer = null;
  function kickSync() {
    scheduleRender();
    clearTimeout(kickTimer);
    if (!online()) return;
    kickTimer = setTimeout(function () { Sync.run({ visitId: view.visitId }); }, 800);
  }

  function syncNow(refresh) {
    if (!online()) {
      paintStatus({ phase: "offline" });
      toast(gettext("Offline. Everything is kept on this phone and sent when the network is back."));
      return Promise.resolve();
    }
    if (refresh) lastListRefresh = Date.now();
    return Sync.run({ refresh: refresh, visitId: view.visitId });
  }

  async function signOut() {
    var counts = await Sync.counts();
    var open = counts.pending + counts.failed;
    var message = open
      ? interpolate(ngettext(
        "%s record has not reached the server. It stays on this phone and is sent after you sign in again. Sign out?",
        "%s records have not reached the server. They stay on this phone and are sent after you sign in again. Sign out?",
        open), [open])
      : gettext("Sign out?");
    if (!(await confirmDialog(message, gettext("Sign out")))) return;
    // What the server sent stays on the server: forget it here (the queue is kept).
    await db.clear("visits");
    await db.setMeta("visitList", null);
    if (window.caches) {
      await caches.delete("wuwu-m-api-u" + cfg.userId);
      await caches.delete("wuwu-m-photos");
    }
    var form = el("form");
    form.method = "post";
    form.action = cfg.logout;
    var token = el("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = Sync.state.csrf;
    form.appendChild(token);
    document.body.appendChild(form);
    form.submit();
  }

  // --- events ----------------------------------------------------------------------------

  function wire() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-route]");
      if (link && !event.defaultPrevented && event.button === 0 && !event.metaKey && !event.ctrlKey) {
        event.preventDefault();
        navigate(new URL(link.href, window.location.href).pathname);
        return;
      }
      var outcome = event.target.closest(".m-item .m-seg-btn");
      if (outcome && !outcome.disabled) {
        var card = outcome.closest(".m-item");
        var itemId = Number(card.dataset.itemId);
        var noteText = card.querySelector(".m-item-note").value.trim();
        var current = view.visit && resultFor(view.visit, itemId);
        if (current && current.outcome === outcome.dataset.outcome && (current.note || "") === noteText) return;
        recordResult(itemId, outcome.dataset.outcome, noteText);
        card.dataset.outcome = outcome.dataset.outcome;
        card.querySelectorAll(".m-seg-btn").forEach(function (b) {
          b.classList.toggle("active", b === outcome);
        });
        return;
      }
      var record = event.target.closest(".m-item-record");
      if (record) {
        openFindingForm(Number(record.closest(".m-item").dataset.itemId));
        return;
      }
      var severity = event.target.closest("#f-severity .m-seg-btn");
      if (severity) {
        $("f-severity").dataset.value = severity.dataset.value;
        $("f-severity").querySelectorAll(".m-seg-btn").forEach(function (b) {
          var on = b === severity;
          b.classList.toggle("active", on);
          b.setAttribute("aria-checked", on ? "true" : "false");
        });
        return;
      }
      var action = event.target.closest("#failed-list [data-action]");
      if (action) {
        var seq = Number(action.dataset.seq);
        if (action.dataset.action === "retry") {
          Sync.retry([seq]).then(function () { return syncNow(false); });
        } else {
          discardItems(seq);
        }
      }
    });

    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target.classList.contains("m-item-note")) {
        var card = target.closest(".m-item");
        var itemId = Number(card.dataset.itemId);
        var v = view.visit;
        var result = v && resultFor(v, itemId);
        var note = target.value.trim();
        if (result && result.outcome) {
          if ((result.note || "") !== note) recordResult(itemId, result.outcome, note);
        } else if (v) {
          view.drafts[v.id + ":" + itemId] = note;
          db.setMeta("drafts", view.drafts);
        }
      } else if (target.name === "disposition") {
        paintDisposition();
      }
    });

    $("visit-summary").addEventListener("input", function () {
      if (!view.visit) return;
      view.drafts["summary:" + view.visit.id] = this.value;
      clearTimeout(this._timer);
      this._timer = setTimeout(function () { db.setMeta("drafts", view.drafts); }, 500);
    });

    watchFileInput($("visit-photo-input"));
    $("checkin-btn").addEventListener("click", function () { checkIn().catch(showError); });
    $("add-finding").addEventListener("click", function () { openFindingForm(null); });
    $("finding-form").addEventListener("submit", function (event) { saveFinding(event).catch(showError); });
    $("f-cancel").addEventListener("click", function () { closeFindingForm(false); });
    $("submit-btn").addEventListener("click", function () { submitVisit().catch(showError); });
    $("sync-now").addEventListener("click", function () { syncNow(true); });
    $("retry-all").addEventListener("click", async function () {
      var items = await db.queueAll();
      var failed = items.filter(function (i) { return i.status === "failed"; }).map(function (i) { return i.seq; });
      if (failed.length) await Sync.retry(failed);
      syncNow(false);
    });
    $("sync-status").addEventListener("click", function () {
      var panel = $("sync-panel");
      panel.hidden = !panel.hidden;
      this.setAttribute("aria-expanded", panel.hidden ? "false" : "true");
      paintCounts();
    });
    $("sync-panel-close").addEventListener("click", function () {
      $("sync-panel").hidden = true;
      $("sync-status").setAttribute("aria-expanded", "false");
    });
    $("logout-btn").addEventListener("click", function () { signOut().catch(showError); });
    $("signin-link").href = cfg.login + "?next=" + encodeURIComponent(window.location.pathname);

    if ("scrollRestoration" in window.history) window.history.scrollRestoration = "manual";
    window.addEventListener("popstate", function () {
      if (!$("page-finding").hidden && window.location.hash !== "#problem") {
        $("page-finding").hidden = true;
        view.findingItem = null;
      }
      if (view.scrollBeforeForm !== undefined && window.location.hash !== "#problem") {
        backFromForm();
        return;
      }
      view.built = null;
      render().catch(showError);
    });
    window.addEventListener("online", function () {
      paintStatus({ phase: "idle" });
      syncNow(true);
    });
    window.addEventListener("offline", function () { paintStatus({ phase: "offline" }); });

    ["queue", "sent", "visit", "list", "synced"].forEach(function (name) {
      document.addEventListener("wuwu:" + name, scheduleRender);
    });
    document.addEventListener("wuwu:status", function (event) { paintStatus(event.detail); });
    document.addEventListener("wuwu:synced", function (event) {
      var summary = event.detail || {};
      if (summary.failed) toast(gettext("Some records were not accepted. Open the sync panel to see why."));
    });

    setInterval(function () {
      if (!online()) return;
      var refresh = Date.now() - lastListRefresh > LIST_EVERY_MS;
      if (refresh) lastListRefresh = Date.now();
      Sync.run({ refresh: refresh, visitId: view.visitId });
    }, SYNC_EVERY_MS);
  }

  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(cfg.sw, { scope: cfg.home }).catch(showError);
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persist().catch(function () { return false; });
    }
  }

  async function start() {
    try {
      db = await window.WuwuDB.open(cfg.userId);
    } catch (error) {
      $("page-error-text").textContent = gettext("This browser cannot keep data offline (private mode?). Use the normal mode of the browser.");
      showPage("page-error");
      return;
    }
    await Sync.init({
      db: db,
      csrf: cfg.csrf,
      userId: cfg.userId,
      urls: { home: cfg.home, login: cfg.login, visits: cfg.visits, findings: cfg.findings, photos: cfg.photos },
    });
    view.drafts = (await db.getMeta("drafts", null)) || {};
    wire();
    registerServiceWorker();
    paintStatus({ phase: online() ? "idle" : "offline" });
    await render();
    body.dataset.ready = "1";
    syncNow(true);
  }

  start().catch(showError);
})();
