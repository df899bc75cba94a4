// vidgen review dashboard: vanilla JavaScript, no build step, nothing loaded from elsewhere.
// It reads and acts only through vidgen's JSON API (the same service the CLI calls), builds the
// DOM with textContent (never innerHTML), and polls while the tab is visible.
"use strict";

const FEATURES = new Set((document.body.dataset.features || "").split(/\s+/).filter(Boolean));
const SIGNED_IN = document.body.dataset.auth === "token";
const POLL_MS = 2000;
const STATUSES = ["pending", "running", "completed", "failed"];
if (FEATURES.has("cancel")) STATUSES.push("cancelled");
const STAGES = {
  initialization: "Queued",
  trend_collection: "Collect trends",
  trend_analysis: "Analyse trends",
  content_generation: "Script, voice & clips",
  composition: "Compose video",
  review: "File for review",
};
const VIDEO_LABEL = { pending_review: "Waiting for review", approved: "Approved", rejected: "Rejected" };

// -- small helpers --------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

async function api(path, { method = "GET", body, text = false } = {}) {
  const headers = { Accept: text ? "text/plain, */*" : "application/json" };
  // Marks the request as the page's own (a cross-site form cannot send a custom header).
  if (method !== "GET") headers["X-Vidgen-CSRF"] = "1";
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && SIGNED_IN) {
    location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    throw new Error("signed out");
  }
  if (text && response.ok) return response.text();
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    const error = new Error((data && data.detail) || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

let toastTimer = 0;
function toast(message, bad = false) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = "show" + (bad ? " bad" : "");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = ""), bad ? 6000 : 3500);
}

function pill(status, label) {
  return h("span", { class: `pill s-${status}`, "data-status": status }, label || status.replace("_", " "));
}

function ago(iso) {
  if (!iso) return "";
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 45) return "just now";
  const units = [["day", 86400], ["h", 3600], ["min", 60]];
  for (const [unit, size] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return unit === "day" ? `${n} day${n > 1 ? "s" : ""} ago` : `${n} ${unit} ago`;
    }
  }
  return "1 min ago";
}

function money(value) {
  return `$${Number(value || 0).toFixed(value && value < 0.01 ? 4 : 2)}`;
}

function seconds(value) {
  if (value === null || value === undefined) return "";
  return value < 60 ? `${value.toFixed(1)} s` : `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
}

function fileUrl(videoId, kind) {
  return `/api/videos/${videoId}/files/${kind}`;
}

function progressBar(job) {
  const cls = job.status === "completed" ? " done" : job.status === "failed" ? " bad" : "";
  const bar = h("span");
  bar.style.width = `${job.progress_pct || 0}%`;
  return h("div", { class: "progress" + cls, title: `${job.progress_pct || 0}%` }, bar);
}

function refreshAges() {
  for (const el of document.querySelectorAll("[data-ago]")) el.textContent = ago(el.dataset.ago);
}

function poll(fn) {
  let busy = false;
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      await fn();
    } catch (error) {
      if (error.message !== "signed out") toast(error.message, true);
    } finally {
      busy = false;
      refreshAges();
    }
  };
  tick();
  setInterval(tick, POLL_MS);
  document.addEventListener("visibilitychange", tick);
}

// -- the jobs list --------------------------------------------------------------------------

function cardStage(job) {
  // A job cancelled before it started is still at "initialization": it is not queued.
  if (job.status === "completed") return "done";
  if (job.status === "cancelled" && job.stage === "initialization") return "Cancelled";
  return STAGES[job.stage] || job.stage || "";
}

function jobCard(job) {
  const thumb = job.video_id
    ? h("div", { class: "thumb" }, h("img", { src: fileUrl(job.video_id, "thumbnail"), alt: "", loading: "lazy" }))
    : h("div", { class: "thumb" }, job.status === "failed" ? "✕" : "…");
  const stage = cardStage(job);
  return h(
    "a",
    { class: "job", href: `/jobs/${job.id}`, "data-job": job.id },
    thumb,
    h(
      "div",
      { class: "job-body" },
      h("div", { class: "job-title" }, job.title || job.theme || `Job ${job.id}`),
      h("div", { class: "job-meta" }, `#${job.id} · ${job.theme} · `, h("span", { "data-ago": job.created_at }, ago(job.created_at))),
      h("div", { class: "row" }, pill(job.status), job.video_status ? pill(job.video_status, VIDEO_LABEL[job.video_status]) : null),
      h("div", { class: "spacer" }),
      progressBar(job),
      h(
        "div",
        { class: "row job-meta" },
        h("span", {}, stage),
        h("span", { class: "spacer" }),
        h("span", { title: "provider cost" }, money(job.total_cost)),
      ),
      job.error_message ? h("div", { class: "job-meta error", title: job.error_message }, job.error_message.slice(0, 90)) : null,
    ),
  );
}

function listPage(root) {
  const params = new URLSearchParams(location.search);
  let filter = params.get("status") || "";
  const grid = h("div", { class: "jobs", id: "jobs" });
  const count = h("span", { class: "count" });
  const chips = h("div", { class: "filters", role: "tablist" });
  const seen = new Map();

  const drawChips = () => {
    fill(chips,
      ...["", ...STATUSES].map((status) =>
        h(
          "button",
          {
            class: "chip" + (status === filter ? " active" : ""),
            type: "button",
            "data-filter": status || "all",
            onclick: () => {
              filter = status;
              history.replaceState(null, "", status ? `/?status=${status}` : "/");
              drawChips();
              seen.clear();
              fill(grid);
              refresh();
            },
          },
          status || "all",
        ),
      ),
    );
  };

  const theme = h("input", { name: "theme", placeholder: "Theme, e.g. Product Demo", maxlength: 200, "aria-label": "theme" });
  const config = h("input", { name: "config_path", placeholder: "Theme file (optional)", maxlength: 4096, "aria-label": "theme file" });
  const form = h(
    "form",
    {
      class: "generate card",
      id: "generate",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = {};
        if (theme.value.trim()) body.theme = theme.value;
        if (config.value.trim()) body.config_path = config.value;
        try {
          const created = await api("/api/generate", { method: "POST", body });
          const health = await api("/api/health").catch(() => null);
          toast(health && health.workers === 0 ? `Job ${created.job_id} queued, but no worker is running: start one with 'vidgen worker'` : `Job ${created.job_id} queued`, health && health.workers === 0);
          theme.value = "";
          refresh();
        } catch (error) {
          toast(error.message, true);
        }
      },
    },
    theme,
    config,
    h("button", { class: "btn primary", type: "submit" }, "Generate video"),
  );

  // Said on the page, not left to "pending" forever: is anything going to run the jobs?
  const workerNote = h("div", { class: "card error", id: "no-worker", role: "status", hidden: true });
  fill(root,
    h("div", { class: "list-head" }, h("div", {}, h("h1", {}, "Videos in the making"), count), form),
    workerNote,
    chips,
    grid,
  );
  drawChips();

  const refresh = async () => {
    const query = new URLSearchParams({ limit: "60" });
    if (filter) query.set("status", filter);
    const health = await api("/api/health").catch(() => null);
    const idle = health !== null && health.workers === 0;
    workerNote.hidden = !idle;
    workerNote.textContent = idle ? "No worker is running: queued jobs wait until one starts. Start one with: vidgen worker" : "";
    const data = await api(`/api/dashboard/jobs?${query}`);
    count.textContent = `${data.total} job${data.total === 1 ? "" : "s"}${filter ? ` ${filter}` : ""}`;
    if (!data.jobs.length) {
      fill(grid, h("div", { class: "empty card" }, filter ? `No ${filter} jobs.` : "No jobs yet: generate one above."));
      seen.clear();
      return;
    }
    const cards = data.jobs.map((job) => {
      const key = JSON.stringify(job);
      const old = seen.get(job.id);
      if (old && old.key === key) return old.el;
      const el = jobCard(job);
      seen.set(job.id, { key, el });
      return el;
    });
    const same = cards.length === grid.children.length && cards.every((el, i) => grid.children[i] === el);
    if (!same) fill(grid, ...cards);
  };
  poll(refresh);
}

// -- one job --------------------------------------------------------------------------------

function section(title, ...body) {
  return h("section", { class: "card" }, h("h2", {}, title), ...body);
}

function timeline(page) {
  const byStage = {};
  for (const attempt of page.attempts) (byStage[attempt.stage] ||= []).push(attempt);
  return h(
    "ol",
    { class: "timeline", id: "timeline" },
    page.job.stages.map((stage) => {
      const attempts = byStage[stage.stage] || [];
      return h(
        "li",
        { "data-stage": stage.stage, "data-state": stage.state },
        h("span", { class: `dot ${stage.state}` }),
        h("div", {}, h("div", { class: "stage-name" }, STAGES[stage.stage] || stage.stage), h("div", { class: "muted" }, stage.stage)),
        h("div", { class: "stage-stats" }, stage.state === "waiting" ? "waiting" : `${seconds(stage.duration_seconds)} · ${money(stage.cost)}`),
        attempts.length
          ? h(
              "ul",
              { class: "attempts" },
              attempts.map((a, i) =>
                h(
                  "li",
                  {},
                  `attempt ${a.attempt}: ${a.state}`,
                  a.started_at ? ` at ${new Date(a.started_at).toLocaleTimeString()}` : "",
                  a.duration_seconds !== null ? ` · ${seconds(a.duration_seconds)}` : "",
                  ` · ${money(a.cost)}`,
                  // The error (ffmpeg's stderr, say) once: the page head shows the job's, and
                  // a retry that failed the same way says so instead of repeating it.
                  a.error && (page.job.error_message || "").includes(a.error) ? h("span", { class: "muted" }, " · the error above")
                    : a.error && i > 0 && attempts[i - 1].error === a.error ? h("span", { class: "muted" }, " · same error")
                    : a.error ? h("span", { class: "err" }, a.error) : null,
                ),
              ),
            )
          : null,
      );
    }),
  );
}

function planSection(plan) {
  if (!plan) return section("Plan", h("p", { class: "muted" }, "The plan appears once the script is written."));
  return section(
    "Plan",
    h("p", { class: "plan-desc", id: "plan-description" }, plan.description),
    h("div", { class: "tags", id: "plan-hashtags" }, plan.hashtags.map((tag) => h("span", { class: "tag" }, tag))),
    h("blockquote", { class: "script", id: "plan-script" }, plan.voiceover_script),
    plan.scenes.length
      ? h(
          "table",
          { class: "scenes" },
          h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "On screen"), h("th", {}, "Narration"), h("th", {}, "Length"))),
          h(
            "tbody",
            {},
            plan.scenes.map((scene) =>
              h("tr", {}, h("td", {}, scene.index + 1), h("td", {}, scene.on_screen_text), h("td", {}, scene.narration), h("td", {}, seconds(scene.duration_seconds))),
            ),
          ),
        )
      : null,
  );
}

function eventDetails(data) {
  // The numbers a runner event carries: a stage's time and cost, a backoff's wait.
  if (!data || typeof data !== "object") return "";
  const parts = [];
  if (typeof data.duration_seconds === "number") parts.push(seconds(data.duration_seconds));
  if (typeof data.cost === "number" && data.cost > 0) parts.push(money(data.cost));
  if (typeof data.delay === "number") parts.push(`waiting ${seconds(data.delay)}`);
  return parts.join(" · ");
}

function renderLog(data) {
  // The job page's runner events, or GET /api/jobs/{id}/logs ({events: [...]} or a bare list).
  const events = Array.isArray(data) ? data : (data && (data.events || data.lines || data.logs)) || [];
  if (!events.length) return "No events recorded yet.";
  const shown = new Set();
  return events
    .map((event) => {
      if (typeof event !== "object" || event === null) return String(event);
      const when = event.at || event.time || event.timestamp || event.created_at || "";
      const what = event.kind || event.event || event.type || "";
      const where = event.stage ? `${event.stage}${event.attempt ? ` #${event.attempt}` : ""}` : "";
      // A stage that failed the same way on every attempt: its error and ffmpeg's stderr are
      // shown once, later attempts say "same as above".
      let message = event.message || event.detail || event.error || "";
      if (message && what === "stage_failed" && shown.has(message)) message = "the same error as above";
      else if (message && what === "stage_failed") shown.add(message);
      const text = [message, eventDetails(event.data)].filter(Boolean).join("  ");
      const head = [when && new Date(when).toLocaleTimeString(), what.padEnd(16), where].filter(Boolean).join("  ");
      const lines = event.traceback_tail || (event.data && event.data.stderr_tail) || event.traceback || "";
      let tail = (Array.isArray(lines) ? lines.join("\n") : String(lines)).trim();
      if (tail && shown.has(tail)) tail = "";
      else if (tail) shown.add(tail);
      return `${head}  ${text}`.trim() + (tail ? `\n    ${tail.replace(/\n/g, "\n    ")}` : "");
    })
    .join("\n");
}

function jobPage(root, jobId) {
  const head = h("div", { class: "job-head" });
  const media = h("div", { id: "media" });
  const actions = h("section", { class: "card actions", id: "actions" });
  const stages = h("div", {});
  const plan = h("div", {});
  const captions = h("div", {});
  const publishing = h("section", { class: "card actions", id: "publishing", hidden: true });
  const log = h("pre", { class: "log", id: "log" }, "Loading…");
  const logSection = section("Log", log);
  fill(root,
    h("a", { class: "back", href: "/" }, "← All jobs"),
    head,
    h("div", { class: "layout" }, h("div", { class: "side" }, media, actions, publishing), h("div", { class: "main-col" }, stages, plan, captions, logSection)),
  );
  const keys = {};
  const changed = (name, value) => {
    const key = JSON.stringify(value);
    if (keys[name] === key) return false;
    keys[name] = key;
    return true;
  };

  const act = async (label, path, body) => {
    try {
      const result = await api(path, { method: "POST", body });
      toast(result.message || `${label}: done`);
    } catch (error) {
      toast(`${label}: ${error.message}`, true);
    }
    await refresh();
  };

  const drawActions = (job, video) => {
    const parts = [];
    if (video && video.status === "pending_review") {
      const reason = h("textarea", { id: "reason", placeholder: "What should change? (required to reject)", maxlength: 2000 });
      const rejectBox = h("div", { class: "actions", id: "reject-box", hidden: true }, reason,
        h("button", { class: "btn danger", id: "reject-confirm", type: "button", onclick: () => {
          if (!reason.value.trim()) return toast("Say why you reject it: the reason is kept with the video.", true);
          act("Reject", `/api/videos/${video.id}/reject`, { reason: reason.value });
        } }, "Reject with this reason"));
      parts.push(
        h("h2", {}, "Review"),
        h("div", { class: "row" },
          h("button", { class: "btn approve", id: "approve", type: "button", onclick: () => act("Approve", `/api/videos/${video.id}/approve`) }, "Approve"),
          h("button", { class: "btn reject", id: "reject", type: "button", onclick: () => { rejectBox.hidden = !rejectBox.hidden; reason.focus(); } }, "Reject…")),
        rejectBox,
      );
    } else if (video) {
      parts.push(h("h2", {}, "Review"), h("div", {}, pill(video.status, VIDEO_LABEL[video.status]), video.reviewed_at ? h("span", { class: "muted" }, ` ${ago(video.reviewed_at)}`) : null),
        video.reason ? h("p", { class: "muted", id: "video-reason" }, `Reason: ${video.reason}`) : null);
    }
    if (job.status === "failed") {
      parts.push(h("button", { class: "btn primary", id: "retry", type: "button", onclick: () => act("Retry", `/api/jobs/${job.id}/retry`) }, "Retry from the failed stage"));
    }
    if (FEATURES.has("cancel") && (job.status === "pending" || job.status === "running")) {
      parts.push(h("button", { class: "btn reject", id: "cancel", type: "button", onclick: () => act("Cancel", `/api/jobs/${job.id}/cancel`) }, "Cancel job"));
    }
    if (video) {
      parts.push(h("div", { class: "files" },
        h("a", { href: fileUrl(video.id, "video"), download: "" }, "Download MP4"),
        h("a", { href: fileUrl(video.id, "thumbnail"), target: "_blank" }, "Thumbnail")));
    }
    if (!parts.length) parts.push(h("p", { class: "muted" }, job.status === "completed" ? "Done." : "Nothing to decide yet: the video appears here when it is filed for review."));
    fill(actions, ...parts);
  };

  // An approved video's publications (link, privacy applied, error) and a button per
  // destination; the upload itself runs in a worker, the page only schedules and watches.
  const drawPublishing = (video, pubs) => {
    const rows = pubs.map((p) => h("li", { "data-publication": p.id },
      `${p.destination}${p.account !== "default" ? ` (${p.account})` : ""} `, pill(p.status), " ",
      p.url ? h("a", { href: p.url, target: "_blank", rel: "noopener noreferrer" }, "Open post") : null,
      p.status === "uploading" && p.total_bytes ? h("span", { class: "muted" }, ` ${Math.floor(100 * (p.uploaded_bytes || 0) / p.total_bytes)}%`) : null,
      p.status === "scheduled" ? h("span", { class: "muted" }, ` at ${p.scheduled_at.slice(0, 16).replace("T", " ")} UTC`) : null,
      p.applied_privacy ? h("span", { class: "muted" }, ` · ${p.applied_privacy}`) : null,
      p.error_message ? h("div", { class: "error" }, p.error_message) : null,
      p.status === "scheduled" ? h("button", { class: "btn reject", type: "button", onclick: () => act("Cancel publication", `/api/publications/${p.id}/cancel`) }, "Cancel") : null));
    const live = new Set(pubs.filter((p) => ["scheduled", "uploading", "published"].includes(p.status)).map((p) => p.destination));
    const buttons = ["youtube", "tiktok"].filter((d) => !live.has(d)).map((d) =>
      h("button", { class: "btn primary", id: `publish-${d}`, type: "button", onclick: () => act(`Publish to ${d}`, `/api/videos/${video.id}/publish`, { to: d }) },
        d === "youtube" ? "Publish to YouTube" : "Publish to TikTok"));
    fill(publishing, h("h2", {}, "Publishing"), rows.length ? h("ul", { class: "publications" }, ...rows) : h("p", { class: "muted" }, "Not published yet."),
      buttons.length ? h("div", { class: "row" }, ...buttons) : null);
    publishing.hidden = false;
  };

  const refresh = async () => {
    const page = await api(`/api/dashboard/jobs/${jobId}`);
    const { job, video } = page;
    document.title = `${(page.plan && page.plan.title) || job.theme} · vidgen`;
    if (changed("head", [job.status, job.stage, job.progress_pct, job.total_cost, page.plan && page.plan.title, video && video.status, job.error_message])) {
      fill(head,
        h("h1", { id: "job-title" }, (video && video.title) || (page.plan && page.plan.title) || job.theme),
        pill(job.status),
        video ? pill(video.status, VIDEO_LABEL[video.status]) : null,
        h("span", { class: "muted" }, `Job #${job.id} · theme ${job.theme} · created `, h("span", { "data-ago": job.created_at }, ago(job.created_at))),
        h("span", { class: "muted" }, `cost ${money(job.total_cost)}`),
        job.error_message ? h("div", { class: "error", id: "job-error" }, job.error_message) : null,
      );
    }
    if (changed("media", video && [video.id, video.video_path, video.thumbnail_path])) {
      fill(media,
        video
          ? h("video", { class: "player", id: "player", controls: true, playsinline: true, preload: "metadata", poster: fileUrl(video.id, "thumbnail"), src: fileUrl(video.id, "video") })
          : h("div", { class: "no-video" }, job.status === "failed" ? "No video: the job failed." : "The video appears here when it is composed."),
      );
    }
    if (changed("actions", [job.status, video && [video.id, video.status, video.reason]])) drawActions(job, video);
    if (video && video.status === "approved") {
      const pubs = (await api(`/api/dashboard/videos/${video.id}/publications`)).publications;
      if (changed("publishing", pubs)) drawPublishing(video, pubs);
    }
    if (changed("stages", [job.stages, page.attempts])) {
      fill(stages, section("Stages", h("div", {}, progressBar(job)), timeline(page)));
    }
    if (changed("plan", page.plan)) fill(plan, planSection(page.plan));
    if (changed("captions", [page.captions_path, video && video.id])) {
      if (video && page.captions_path) {
        const text = await api(fileUrl(video.id, "captions"), { text: true });
        fill(captions, section("Captions", h("pre", { class: "captions", id: "captions" }, text), h("div", { class: "files" }, h("a", { href: fileUrl(video.id, "captions"), download: "" }, "Download .srt"))));
      } else fill(captions);
    }
    // The server's job log when it has one (richer: tracebacks, ffmpeg output), else the
    // runner events the job page carries.
    const text = renderLog(FEATURES.has("logs") ? await api(`/api/jobs/${jobId}/logs`) : page.events);
    if (log.textContent !== text) log.textContent = text;
  };
  poll(refresh);
}

// -- start ------------------------------------------------------------------------------------

(function start() {
  if (SIGNED_IN) document.getElementById("logout").hidden = false;
  const root = document.getElementById("app");
  if (!root) return;
  const match = location.pathname.match(/^\/jobs\/(\d+)\/?$/);
  if (match) jobPage(root, Number(match[1]));
  else listPage(root);
})();
