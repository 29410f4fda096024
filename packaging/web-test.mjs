// Drives the web build in headless Chromium, as a person would, over the DevTools protocol
// (a pipe: no extra package needed) — see packaging/web-test.sh, which serves dist/ and
// checks what this writes.
//   node packaging/web-test.mjs URL OUT_DIR COHORT.csv LARGE.csv
// Writes to OUT_DIR: demo.json, cohort.json (the report JSON the page saved: Ctrl+J),
// web-survival.png (the Survival view with COHORT.csv), web-figure-km_pfs.png (its figure
// as Ctrl+E downloads it), requests.txt (every request the page
// made), timings.txt (the analysis times the page logged), storage.json (the page's
// localStorage), after-reload.json (the report after a reload: the settings kept),
// csp-probe.txt (what became of a connection the page tried to another origin).
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import os from "node:os";

const [url, outDir, cohortCsv, largeCsv] = process.argv.slice(2);
if (!largeCsv) {
  console.error("usage: web-test.mjs URL OUT_DIR COHORT.csv LARGE.csv");
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
const downloads = fs.mkdtempSync(path.join(os.tmpdir(), "se-downloads-"));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "se-profile-"));

const chromium = spawn(
  process.env.CHROMIUM || "chromium",
  [
    "--headless=new",
    "--remote-debugging-pipe",
    "--no-sandbox",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--window-size=1400,900",
    `--user-data-dir=${profile}`,
    "about:blank",
  ],
  { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
);
let stderr = "";
chromium.stderr.on("data", (d) => (stderr += d));

// The protocol: JSON messages, each ended by a NUL byte; fd 3 to the browser, fd 4 back.
const toBrowser = chromium.stdio[3];
const fromBrowser = chromium.stdio[4];
let nextId = 0;
const pending = new Map();
const listeners = [];
let buffer = Buffer.alloc(0);
fromBrowser.on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  let end;
  while ((end = buffer.indexOf(0)) >= 0) {
    const message = JSON.parse(buffer.subarray(0, end).toString("utf8"));
    buffer = buffer.subarray(end + 1);
    if (message.id !== undefined && pending.has(message.id)) {
      const { resolve, reject, method } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
      else resolve(message.result);
    } else if (message.method) {
      for (const l of [...listeners]) l(message);
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, method });
    toBrowser.write(JSON.stringify({ id, method, params, sessionId }) + "\0");
  });
}
/** The next event `method` whose params satisfy `pred`, within `ms`. */
function waitFor(method, pred = () => true, ms = 120000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listeners.splice(listeners.indexOf(l), 1);
      reject(new Error(`timed out waiting for ${method}`));
    }, ms);
    const l = (m) => {
      if (m.method === method && pred(m.params)) {
        clearTimeout(timer);
        listeners.splice(listeners.indexOf(l), 1);
        resolve(m.params);
      }
    };
    listeners.push(l);
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const requests = [];
const logs = [];
// Downloads finished, by guid: kept from the start, as a small download can finish in the
// same batch of messages that announced it (before a waiter for it could listen).
const finished = new Set();
function downloaded(guid) {
  if (finished.has(guid)) return Promise.resolve();
  return waitFor("Browser.downloadProgress", (p) => p.guid === guid && p.state === "completed");
}
listeners.push((m) => {
  if (m.method === "Browser.downloadProgress" && m.params.state === "completed") {
    finished.add(m.params.guid);
  }
  if (m.method === "Network.requestWillBeSent") requests.push(m.params.request.url);
  if (m.method === "Runtime.consoleAPICalled") {
    logs.push(m.params.args.map((a) => a.value ?? a.description ?? "").join(" "));
  }
});

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  await page("Network.enable");
  await page("Runtime.enable");
  await page("Page.enable");
  await page("Page.setInterceptFileChooserDialog", { enabled: true });
  // A headless page has no window focus of its own: the canvas gets keyboard focus anyway.
  await page("Emulation.setFocusEmulationEnabled", { enabled: true });
  await send("Browser.setDownloadBehavior", {
    behavior: "allow",
    downloadPath: downloads,
    eventsEnabled: true,
  });
  await page("Emulation.setDeviceMetricsOverride", {
    width: 1400,
    height: 900,
    deviceScaleFactor: 1,
    mobile: false,
  });

  // The page logs "survival-explorer: analysed N rows in T ms (the view's parts | the rest)".
  const analysed = (rows, what, ms) =>
    waitFor("Runtime.consoleAPICalled", (p) => {
      const text = p.args.map((a) => a.value ?? "").join(" ");
      const m = text.match(/analysed (\d+) rows/);
      return m && (rows === null || Number(m[1]) === rows) && text.includes(what);
    }, ms);
  const key = async (k, code, vk, modifiers) => {
    for (const type of ["rawKeyDown", "keyUp"]) {
      await page("Input.dispatchKeyEvent", {
        type,
        modifiers,
        key: k,
        code,
        windowsVirtualKeyCode: vk,
      });
    }
  };
  const CTRL = 2,
    SHIFT = 8;
  // Saves the report (Ctrl+J) and moves the download to OUT_DIR/name.
  const saveJson = async (name) => {
    await sleep(500); // a frame for the rest of the analysis
    const begun = waitFor("Browser.downloadWillBegin", () => true, 30000);
    await key("j", "KeyJ", 74, CTRL);
    const { guid, suggestedFilename } = await begun;
    await downloaded(guid);
    fs.renameSync(path.join(downloads, suggestedFilename), path.join(outDir, name));
  };
  const openFile = async (file, shift = false) => {
    const chooser = waitFor("Page.fileChooserOpened", () => true, 30000);
    await key("o", "KeyO", 79, CTRL | (shift ? SHIFT : 0));
    const { backendNodeId } = await chooser;
    await page("DOM.setFileInputFiles", { files: [path.resolve(file)], backendNodeId });
  };

  const t0 = Date.now();
  const demoDone = analysed(null, "the rest");
  await page("Page.navigate", { url });
  await demoDone;
  const loadMs = Date.now() - t0;
  await page("Runtime.evaluate", { expression: "document.getElementById('the_canvas_id').focus()" });
  await saveJson("demo.json");

  // Nothing is analysed between two steps: the next whole analysis is the new file's.
  let done = analysed(null, "the rest");
  await openFile(cohortCsv);
  await done;
  await saveJson("cohort.json");
  await sleep(500);
  const shot = await page("Page.captureScreenshot", { format: "png" });
  fs.writeFileSync(path.join(outDir, "web-survival.png"), Buffer.from(shot.data, "base64"));

  // The figure in the export's default format (PNG), as Ctrl+E saves it.
  const figure = waitFor("Browser.downloadWillBegin", () => true, 30000);
  await key("e", "KeyE", 69, CTRL);
  const fig = await figure;
  await downloaded(fig.guid);
  fs.renameSync(
    path.join(downloads, fig.suggestedFilename),
    path.join(outDir, `web-figure-${fig.suggestedFilename}`),
  );

  // Speed: a 10,000-patient file — dropped on the page — then caliper moves.
  done = analysed(null, "the rest");
  const drag = { items: [], files: [path.resolve(largeCsv)], dragOperationsMask: 1 };
  for (const type of ["dragEnter", "dragOver", "drop"]) {
    await page("Input.dispatchDragEvent", { type, x: 800, y: 450, data: drag });
  }
  await done;
  const begun = waitFor("Browser.downloadWillBegin", () => true, 30000);
  await key("s", "KeyS", 83, CTRL);
  const { guid, suggestedFilename } = await begun;
  await downloaded(guid);
  const spec = fs
    .readFileSync(path.join(downloads, suggestedFilename), "utf8")
    .split("\n")
    .filter((l) => !/^file\s*=/.test(l))
    .join("\n");
  // Caliper moves 0.2 → 0.1 → 0.2 …: specs that differ from the settings by the caliper only.
  for (const [k, caliper] of ["0.1", "0.2", "0.1", "0.2", "0.1"].entries()) {
    const specPath = path.join(downloads, `caliper-${k}.toml`);
    fs.writeFileSync(specPath, spec.replace(/^caliper = .*$/m, `caliper = ${caliper}`));
    done = analysed(null, "the rest");
    await openFile(specPath, true);
    await done;
  }
  await sleep(500);

  // The views that repeat the analysis (caliper sweep, subgroup forest) on the 10,000
  // patients: their tabs clicked (positions of the menu bar at 1400 px wide). Timed only:
  // a missed click is noted, not failed.
  for (const [view, x] of [["Caliper sensitivity", 378], ["Subgroups", 461], ["Survival", 156]]) {
    const shown = analysed(null, "the rest", 60000).catch(() => null);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await page("Input.dispatchMouseEvent", { type, x, y: 12, button: "left", clickCount: 1 });
    }
    if (!(await shown)) logs.push(`(the ${view} tab: no analysis seen)`);
    else logs.push(`(above: the ${view} view)`);
  }
  await sleep(500);

  // The settings persist in the browser's storage (eframe saves them when the page loses
  // focus): after a reload the demo opens with the last caliper; no file's data is stored.
  await page("Runtime.evaluate", { expression: "document.getElementById('the_canvas_id').blur()" });
  await sleep(1000);
  const stored = await page("Runtime.evaluate", {
    expression: "JSON.stringify(Object.fromEntries(Object.entries(localStorage)))",
    returnByValue: true,
  });
  fs.writeFileSync(path.join(outDir, "storage.json"), stored.result.value);
  const reloaded = analysed(null, "the rest");
  await page("Page.reload", {});
  await reloaded;
  await page("Runtime.evaluate", { expression: "document.getElementById('the_canvas_id').focus()" });
  await saveJson("after-reload.json");

  fs.writeFileSync(path.join(outDir, "requests.txt"), requests.join("\n") + "\n");

  // The Content-Security-Policy at work: a connection to another origin (another port of
  // this machine; nothing listens there) is refused by the page before it is tried.
  const probe = await page("Runtime.evaluate", {
    expression: `new Promise((resolve) => {
      document.addEventListener("securitypolicyviolation",
        (e) => resolve("blocked by the CSP: " + e.effectiveDirective), { once: true });
      fetch("http://127.0.0.1:9/").catch(() => {});
      setTimeout(() => resolve("not blocked"), 3000);
    })`,
    awaitPromise: true,
    returnByValue: true,
  });
  fs.writeFileSync(path.join(outDir, "csp-probe.txt"), probe.result.value + "\n");
  fs.writeFileSync(
    path.join(outDir, "timings.txt"),
    [`page load to the demo's whole analysis: ${loadMs} ms (wall clock)`, ...logs].join("\n") + "\n",
  );
}

const watchdog = setTimeout(() => {
  console.error("web-test: timed out after 10 minutes");
  chromium.kill("SIGKILL");
  process.exit(1);
}, 600000);
main()
  .then(() => {
    clearTimeout(watchdog);
    chromium.kill();
    process.exit(0);
  })
  .catch((e) => {
    console.error(`web-test: ${e.message}`);
    console.error(logs.slice(-20).join("\n"));
    if (stderr) console.error(stderr.split("\n").slice(-20).join("\n"));
    chromium.kill("SIGKILL");
    process.exit(1);
  });
