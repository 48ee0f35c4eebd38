// 五五督查 mobile: a small promise wrapper around IndexedDB, one database per signed-in user.
//
// Stores:
//   visits  the last known visit detail JSON, by visit id (plus `_savedAt`, `_appliedAt`)
//   queue   pending writes in the order the inspector made them (key `seq`, auto-increment):
//           {seq, id (client UUID), kind, url, method, body | blob + fields, visitId, itemId,
//            coalesceKey, createdAt, attempts, lastError, status: "pending" | "failed"}
//   meta    small values: the visit list, the last GPS fix, drafts, the last sync time
(function () {
  "use strict";

  // If the JavaScript catalog could not be loaded, show the English text rather than break.
  if (typeof window.gettext !== "function") {
    window.gettext = function (msgid) { return msgid; };
  }
  if (typeof window.ngettext !== "function") {
    window.ngettext = function (singular, plural, count) { return count === 1 ? singular : plural; };
  }
  if (typeof window.interpolate !== "function") {
    window.interpolate = function (fmt, obj, named) {
      if (named) {
        return fmt.replace(/%\(\w+\)s/g, function (match) { return String(obj[match.slice(2, -2)]); });
      }
      return fmt.replace(/%s/g, function () { return String(obj.shift()); });
    };
  }

  var VERSION = 1;

  function promisify(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function done(tx) {
    return new Promise(function (resolve, reject) {
      tx.oncomplete = function () { resolve(); };
      tx.onabort = function () { reject(tx.error || new Error("transaction aborted")); };
      tx.onerror = function () { reject(tx.error); };
    });
  }

  function Database(idb) {
    this.idb = idb;
  }

  Database.prototype.get = function (store, key) {
    var tx = this.idb.transaction(store, "readonly");
    return promisify(tx.objectStore(store).get(key));
  };

  Database.prototype.put = function (store, value) {
    var tx = this.idb.transaction(store, "readwrite");
    tx.objectStore(store).put(value);
    return done(tx).then(function () { return value; });
  };

  Database.prototype.delete = function (store, key) {
    var tx = this.idb.transaction(store, "readwrite");
    tx.objectStore(store).delete(key);
    return done(tx);
  };

  Database.prototype.all = function (store) {
    var tx = this.idb.transaction(store, "readonly");
    return promisify(tx.objectStore(store).getAll());
  };

  Database.prototype.clear = function (store) {
    var tx = this.idb.transaction(store, "readwrite");
    tx.objectStore(store).clear();
    return done(tx);
  };

  // --- meta ------------------------------------------------------------------------------

  Database.prototype.getMeta = function (key, fallback) {
    return this.get("meta", key).then(function (row) {
      return row === undefined ? fallback : row.value;
    });
  };

  Database.prototype.setMeta = function (key, value) {
    return this.put("meta", { key: key, value: value });
  };

  // --- visits ----------------------------------------------------------------------------

  Database.prototype.getVisit = function (id) {
    return this.get("visits", Number(id));
  };

  // Store a visit detail fetched at `fetchedAt` (ms), unless a write answered after that moment
  // already updated the stored copy (then the fetched one is older than what we know).
  Database.prototype.saveFetchedVisit = function (detail, fetchedAt) {
    var tx = this.idb.transaction("visits", "readwrite");
    var store = tx.objectStore("visits");
    var saved = false;
    store.get(Number(detail.id)).onsuccess = function (event) {
      var current = event.target.result;
      if (current && current._appliedAt && current._appliedAt > fetchedAt) return;
      detail._savedAt = Date.now();
      detail._appliedAt = current ? current._appliedAt || 0 : 0;
      store.put(detail);
      saved = true;
    };
    return done(tx).then(function () { return saved; });
  };

  // Change a stored visit in one transaction: `change(detail)` edits it in place.
  Database.prototype.updateVisit = function (id, change) {
    var tx = this.idb.transaction("visits", "readwrite");
    var store = tx.objectStore("visits");
    var result;
    store.get(Number(id)).onsuccess = function (event) {
      var detail = event.target.result;
      if (!detail) return;
      change(detail);
      detail._appliedAt = Date.now();
      store.put(detail);
      result = detail;
    };
    return done(tx).then(function () { return result; });
  };

  // --- queue -----------------------------------------------------------------------------

  Database.prototype.queueAll = function () {
    return this.all("queue").then(function (rows) {
      return rows.sort(function (a, b) { return a.seq - b.seq; });
    });
  };

  Database.prototype.queueAdd = function (item) {
    var tx = this.idb.transaction("queue", "readwrite");
    var request = tx.objectStore("queue").add(item);
    return done(tx).then(function () { item.seq = request.result; return item; });
  };

  // Add `item`, unless an item with the same coalesce key was never sent yet: then that one
  // takes the new content in place (it keeps its place in the order and its UUID, which no
  // server has seen). Once an item has been tried, a change is a new write with a new UUID.
  // Failed items with the same key are superseded by the new write and dropped.
  Database.prototype.queueAddOrReplace = function (item) {
    var tx = this.idb.transaction("queue", "readwrite");
    var store = tx.objectStore("queue");
    var stored = item;
    store.getAll().onsuccess = function (event) {
      var rows = event.target.result.sort(function (a, b) { return a.seq - b.seq; });
      var open = null;
      for (var i = rows.length - 1; i >= 0; i--) {
        if (!rows[i].coalesceKey || rows[i].coalesceKey !== item.coalesceKey) continue;
        if (rows[i].status === "failed") {
          store.delete(rows[i].seq); // superseded by the new write
        } else if (!open) {
          open = rows[i];
        }
      }
      if (open && open.attempts === 0 && open.status === "pending") {
        open.body = item.body;
        open.createdAt = item.createdAt;
        store.put(open);
        stored = open;
      } else {
        store.add(item).onsuccess = function (e) { item.seq = e.target.result; };
      }
    };
    return done(tx).then(function () { return stored; });
  };

  // Read-modify-write one queue item atomically; `change(item)` returns false to leave it.
  Database.prototype.queueUpdate = function (seq, change) {
    var tx = this.idb.transaction("queue", "readwrite");
    var store = tx.objectStore("queue");
    var result = null;
    store.get(seq).onsuccess = function (event) {
      var item = event.target.result;
      if (!item) return;
      if (change(item) === false) return;
      store.put(item);
      result = item;
    };
    return done(tx).then(function () { return result; });
  };

  Database.prototype.queueDelete = function (seqs) {
    var tx = this.idb.transaction("queue", "readwrite");
    var store = tx.objectStore("queue");
    [].concat(seqs).forEach(function (seq) { store.delete(seq); });
    return done(tx);
  };

  // Move items to the end of the queue (a retried item goes after what was recorded since),
  // keeping their relative order, their UUIDs and their content.
  Database.prototype.queueRequeue = function (seqs) {
    var tx = this.idb.transaction("queue", "readwrite");
    var store = tx.objectStore("queue");
    var wanted = [].concat(seqs).slice().sort(function (a, b) { return a - b; });
    wanted.forEach(function (seq) {
      store.get(seq).onsuccess = function (event) {
        var item = event.target.result;
        if (!item) return;
        store.delete(seq);
        delete item.seq;
        item.status = "pending";
        item.lastError = "";
        store.add(item);
      };
    });
    return done(tx);
  };

  function open(userId) {
    return new Promise(function (resolve, reject) {
      if (!("indexedDB" in window)) {
        reject(new Error("IndexedDB is not available"));
        return;
      }
      var request = indexedDB.open("wuwu-m-u" + userId, VERSION);
      request.onupgradeneeded = function () {
        var idb = request.result;
        if (!idb.objectStoreNames.contains("visits")) idb.createObjectStore("visits", { keyPath: "id" });
        if (!idb.objectStoreNames.contains("queue")) {
          var queue = idb.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
          queue.createIndex("byId", "id", { unique: true });
          queue.createIndex("byVisit", "visitId", { unique: false });
        }
        if (!idb.objectStoreNames.contains("meta")) idb.createObjectStore("meta", { keyPath: "key" });
      };
      request.onsuccess = function () {
        var idb = request.result;
        idb.onversionchange = function () { idb.close(); };
        resolve(new Database(idb));
      };
      request.onerror = function () { reject(request.error); };
      request.onblocked = function () { reject(new Error("IndexedDB upgrade blocked")); };
    });
  }

  window.WuwuDB = { open: open };
})();
