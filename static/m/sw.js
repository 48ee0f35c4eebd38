// 五五督查 mobile: the service worker (served by Django at /m/sw.js, scope /m/).
//
// - install: precache the shell page and its static files;
// - pages under /m/: network first (a fresh CSRF token), the cached shell when offline — the
//   same shell for /m/visits/<id>/, the script routes;
// - GET /api/v1/visits…: network first, the last good answer when offline, per user;
// - evidence thumbnails: cache first (a filed photo never changes);
// - static files: cache first;
// - everything else, and every write, goes to the network untouched (writes are queued by
//   the page in IndexedDB, not here).
// The server replaces the next line with the real settings and a content version.
self.WUWU_CONFIG = { version: "dev", shell: "/m/", precache: [], apiCached: ["/api/v1/visits/"], photoPrefix: "/inspections/photos/" }; // @@CONFIG@@

var CONFIG = self.WUWU_CONFIG;
var SHELL_CACHE = "wuwu-m-shell-" + CONFIG.version;
var PHOTO_CACHE = "wuwu-m-photos";
var API_CACHE_PREFIX = "wuwu-m-api-u";
var NAV_TIMEOUT_MS = 6000;
var API_TIMEOUT_MS = 10000;

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
      function (error) { clearTimeout(timer); reject(error); });
  });
}

function isLoginRedirect(response) {
  return response.type === "opaqueredirect" || response.redirected ||
    (response.url && new URL(response.url).pathname.indexOf(CONFIG.shell) !== 0);
}

self.addEventListener("install", function (event) {
  event.waitUntil((async function () {
    var cache = await caches.open(SHELL_CACHE);
    // One by one: a file that cannot be fetched must not keep the rest from working offline.
    await Promise.all(CONFIG.precache.map(function (url) {
      return cache.add(new Request(url, { cache: "reload", credentials: "same-origin" }))
        .catch(function () { return null; });
    }));
    // The shell needs the session: cache it only if it really is the shell, not the sign-in
    // page we were redirected to.
    try {
      var shell = await fetch(new Request(CONFIG.shell, { cache: "reload", credentials: "same-origin" }));
      if (shell.ok && !isLoginRedirect(shell)) await cache.put(CONFIG.shell, shell);
    } catch (e) {
      // offline while installing: the next visit online caches it
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", function (event) {
  event.waitUntil((async function () {
    var names = await caches.keys();
    await Promise.all(names.filter(function (name) {
      return name.indexOf("wuwu-m-shell-") === 0 && name !== SHELL_CACHE;
    }).map(function (name) { return caches.delete(name); }));
    await self.clients.claim();
  })());
});

async function shellPage(request) {
  var cache = await caches.open(SHELL_CACHE);
  try {
    var response = await withTimeout(fetch(request), NAV_TIMEOUT_MS);
    if (response.ok && response.type === "basic" && !response.redirected) {
      await cache.put(CONFIG.shell, response.clone());
    }
    return response; // a redirect to the sign-in page is followed by the browser
  } catch (error) {
    var cached = await cache.match(CONFIG.shell);
    if (cached) return cached;
    return new Response(
      "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
      "<title>五五督查</title><style>p{font:16px sans-serif;padding:2rem}</style><p>" +
      "离线状态，且本机尚未保存现场检查页面。请联网后打开一次。</p>",
      { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
}

function markCached(response) {
  var headers = new Headers(response.headers);
  headers.set("X-Wuwu-Cache", "hit");
  return response.blob().then(function (body) {
    return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
  });
}

async function apiNetworkFirst(event) {
  var request = event.request;
  var user = request.headers.get("X-Wuwu-User") || "anon";
  var cache = await caches.open(API_CACHE_PREFIX + user);
  var network = fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      event.waitUntil(cache.put(request.url, copy));
    }
    return response;
  });
  try {
    return await withTimeout(network, API_TIMEOUT_MS);
  } catch (error) {
    var cached = await cache.match(request.url, { ignoreVary: true });
    if (cached) return markCached(cached);
    try {
      return await network; // slow but perhaps still coming
    } catch (e) {
      return new Response(JSON.stringify({ detail: "网络不可用，本机也没有保存这些数据。", code: "offline" }), {
        status: 503, headers: { "Content-Type": "application/json", "X-Wuwu-Cache": "miss" },
      });
    }
  }
}

async function cacheFirst(request, cacheName) {
  var cache = await caches.open(cacheName);
  var cached = await cache.match(request, { ignoreVary: true });
  if (cached) return cached;
  var response = await fetch(request);
  if (response.ok && response.type === "basic" && !response.redirected) {
    await cache.put(request, response.clone());
  }
  return response;
}

async function staticFirst(request) {
  var cached = await caches.match(request, { ignoreSearch: true, ignoreVary: true, cacheName: SHELL_CACHE });
  if (cached) return cached;
  return fetch(request);
}

// The JavaScript catalog and the manifest: answer from the cache at once, refresh behind.
async function staleWhileRevalidate(event) {
  var request = event.request;
  var cache = await caches.open(SHELL_CACHE);
  var cached = await cache.match(request, { ignoreSearch: true, ignoreVary: true });
  var network = fetch(request).then(function (response) {
    if (response.ok && response.type === "basic" && !response.redirected) {
      return cache.put(request, response.clone()).then(function () { return response; });
    }
    return response;
  });
  if (cached) {
    event.waitUntil(network.catch(function () { return null; }));
    return cached;
  }
  return network;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var path = url.pathname;

  if (request.mode === "navigate") {
    if (path.indexOf(CONFIG.shell) === 0 && !/\.(js|webmanifest)$/.test(path)) {
      event.respondWith(shellPage(request));
    }
    return;
  }
  if (CONFIG.apiCached.some(function (prefix) { return path.indexOf(prefix) === 0; })) {
    event.respondWith(apiNetworkFirst(event));
    return;
  }
  if (path.indexOf(CONFIG.photoPrefix) === 0 && /\/thumb\/$/.test(path)) {
    event.respondWith(cacheFirst(request, PHOTO_CACHE));
    return;
  }
  var precached = CONFIG.precache.some(function (entry) {
    return new URL(entry, self.location.origin).pathname === path;
  });
  if (precached) {
    var isStatic = /\.(css|js|woff2?|png|svg)$/.test(path);
    event.respondWith(isStatic ? staticFirst(request) : staleWhileRevalidate(event));
  }
});
