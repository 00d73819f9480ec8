// CrossModal search page: plain JavaScript, no build step. Talks to the JSON API of the same server.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const state = { query: "", explanation: null, word: 0, image: null, selected: null };

  async function getJson(url, init) {
    const response = await fetch(url, init);
    let body = null;
    try { body = await response.json(); } catch { /* not JSON */ }
    if (!response.ok) throw new Error(body && body.error ? body.error : `HTTP ${response.status}`);
    return body;
  }

  function setStatus(el, text, isError) {
    el.textContent = text;
    el.classList.toggle("error", !!isError);
  }

  async function loadHealth() {
    try {
      const h = await getJson("/api/health");
      $("about").textContent = `${h.images} images, ${h.captions} captions; model: ${h.model}` +
        (h.regions > 0 ? `, ${h.regions} regions per image` : "") + (h.imageSearch ? "" : "; image search is off (no CNN given)");
      if (!h.imageSearch) $("image-form").querySelector("button").disabled = true;
    } catch (e) { setStatus($("about"), `The server did not answer: ${e.message}`, true); }
  }

  async function search(event) {
    event.preventDefault();
    const q = $("query").value.trim();
    if (!q) return;
    state.query = q;
    const mode = $("mode").value;
    setStatus($("status"), "Searching…");
    $("results").setAttribute("aria-busy", "true");
    try {
      const r = await getJson(`/api/search?q=${encodeURIComponent(q)}&k=24&mode=${encodeURIComponent(mode)}`);
      renderResults(r);
      const unknown = r.unknownWords.length ? ` Unknown words (read as <unk>): ${r.unknownWords.join(", ")}.` : "";
      setStatus($("status"), `${r.results.length} images, ${r.pairScores} pairs scored in ${r.elapsedMs.toFixed(1)} ms (${r.mode}). Choose an image to see what the model attended to.${unknown}`);
    } catch (e) {
      setStatus($("status"), e.message, true);
    } finally {
      $("results").removeAttribute("aria-busy");
    }
  }

  function renderResults(r) {
    const list = $("results");
    list.replaceChildren();
    r.results.forEach((hit, rank) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.id = hit.id;
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-label", `Result ${rank + 1}: ${hit.name}, score ${hit.score.toFixed(3)}. Show attention.`);
      const img = document.createElement("img");
      img.src = hit.thumbnail;
      img.alt = "";
      img.loading = "lazy";
      const caption = document.createElement("span");
      caption.className = "caption";
      caption.textContent = `#${rank + 1} · ${hit.score.toFixed(3)}`;
      button.append(img, caption);
      button.addEventListener("click", () => explain(hit.id, button));
      li.append(button);
      list.append(li);
    });
  }

  async function explain(id, button) {
    if (state.selected) state.selected.setAttribute("aria-pressed", "false");
    state.selected = button;
    button.setAttribute("aria-pressed", "true");
    setStatus($("status"), "Explaining…");
    try {
      const [e, image] = await Promise.all([
        getJson(`/api/explain?q=${encodeURIComponent(state.query)}&id=${id}`),
        loadImage(`/api/items/${id}/thumbnail`),
      ]);
      state.explanation = e;
      state.image = image;
      state.word = bestWord(e);
      $("detail").hidden = false;
      $("detail-score").textContent = `${e.name}: score ${e.score.toFixed(4)} (${e.kind === "word_region_attention" ? "word-to-region attention" : "region contributions"})`;
      $("meaning").textContent = e.meaning;
      renderWords();
      draw();
      setStatus($("status"), "");
      $("words").querySelector("[aria-checked=true]")?.focus();
    } catch (err) {
      setStatus($("status"), err.message, true);
    }
  }

  function loadImage(url) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error("The image could not be loaded."));
      img.src = url;
    });
  }

  // Start on the first real word (skip <start>) for attention maps.
  function bestWord(e) { return e.kind === "word_region_attention" && e.words.length > 2 ? 1 : 0; }

  function renderWords() {
    const e = state.explanation;
    const box = $("words");
    box.replaceChildren();
    e.words.forEach((word, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = word;
      b.setAttribute("role", "radio");
      b.setAttribute("aria-checked", String(i === state.word));
      b.tabIndex = i === state.word ? 0 : -1;
      b.addEventListener("click", () => selectWord(i));
      box.append(b);
    });
  }

  function selectWord(i) {
    const buttons = [...$("words").children];
    state.word = (i + buttons.length) % buttons.length;
    buttons.forEach((b, j) => { b.setAttribute("aria-checked", String(j === state.word)); b.tabIndex = j === state.word ? 0 : -1; });
    buttons[state.word].focus();
    draw();
  }

  function draw() {
    const e = state.explanation, img = state.image, canvas = $("heatmap");
    // Drawn at up to 448 px on the long side (many gallery images are 200 px); CSS scales it to the column.
    const scale = 448 / Math.max(img.naturalWidth, img.naturalHeight, 1);
    canvas.width = Math.round(img.naturalWidth * scale) || 448;
    canvas.height = Math.round(img.naturalHeight * scale) || 448;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    const weights = e.weights[state.word];
    const g = e.grid;
    let legend;
    if (g > 0) {
      const signed = e.kind === "region_contributions";
      const max = Math.max(...weights.map(Math.abs)) || 1;
      const cw = canvas.width / g, ch = canvas.height / g;
      for (let r = 0; r < g; r++) {
        for (let c = 0; c < g; c++) {
          const w = weights[r * g + c];
          const t = Math.abs(w) / max;
          ctx.fillStyle = signed
            ? (w >= 0 ? `rgba(220, 30, 30, ${0.7 * t})` : `rgba(30, 90, 220, ${0.7 * t})`)
            : `rgba(255, ${Math.round(220 * (1 - t))}, 0, ${0.72 * t})`;
          ctx.fillRect(c * cw, r * ch, cw, ch);
        }
      }
      ctx.strokeStyle = "rgba(255,255,255,0.35)";
      ctx.lineWidth = 1;
      for (let i = 1; i < g; i++) {
        ctx.beginPath(); ctx.moveTo(i * cw, 0); ctx.lineTo(i * cw, canvas.height); ctx.stroke();
        ctx.beginPath(); ctx.moveTo(0, i * ch); ctx.lineTo(canvas.width, i * ch); ctx.stroke();
      }
      const top = weights.indexOf(weights.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0));
      legend = signed && g === 1
        ? `The gallery index keeps one vector per image, so the whole score (${weights[0].toFixed(4)}) belongs to the whole image (see what these numbers mean).`
        : signed
        ? `Red cells raise the score, blue ones lower it; strongest: cell ${top} (row ${Math.floor(top / g) + 1}, column ${top % g + 1}) = ${weights[top].toFixed(4)}.`
        : `“${e.words[state.word]}”: brighter = more attention; strongest: row ${Math.floor(top / g) + 1}, column ${top % g + 1} (${(weights[top] * 100).toFixed(1)}%).`;
    } else {
      legend = "The regions of this gallery are not a square grid, so they cannot be drawn over the image.";
    }
    if (e.relevance && e.kind === "word_region_attention" && e.relevance.length === e.words.length)
      legend += ` Relevance of this word: ${e.relevance[state.word].toFixed(3)}.`;
    $("legend").textContent = legend;
    canvas.dataset.word = String(state.word);
    canvas.dataset.drawn = "true";
  }

  async function searchByImage(event) {
    event.preventDefault();
    const file = $("image").files[0];
    if (!file) return;
    const form = new FormData();
    form.append("image", file);
    setStatus($("image-status"), "Searching captions…");
    try {
      const r = await getJson("/api/search/image?k=10", { method: "POST", body: form });
      const list = $("captions");
      list.replaceChildren();
      for (const hit of r.results) {
        const li = document.createElement("li");
        if (hit.thumbnail) {
          const img = document.createElement("img");
          img.src = hit.thumbnail; img.alt = "";
          li.append(img);
        }
        li.append(document.createTextNode(`${hit.text} (${hit.score.toFixed(3)})`));
        list.append(li);
      }
      setStatus($("image-status"), `${r.width} x ${r.height} image; ${r.pairScores} captions scored in ${r.elapsedMs.toFixed(0)} ms. Thumbnails show the image each caption belongs to.`);
    } catch (e) {
      setStatus($("image-status"), e.message, true);
    }
  }

  function closeDetail() {
    $("detail").hidden = true;
    if (state.selected) { state.selected.setAttribute("aria-pressed", "false"); state.selected.focus(); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("search-form").addEventListener("submit", search);
    $("image-form").addEventListener("submit", searchByImage);
    $("close-detail").addEventListener("click", closeDetail);
    $("words").addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight" || e.key === "ArrowDown") { e.preventDefault(); selectWord(state.word + 1); }
      if (e.key === "ArrowLeft" || e.key === "ArrowUp") { e.preventDefault(); selectWord(state.word - 1); }
    });
    document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("detail").hidden) closeDetail(); });
    loadHealth();
    $("query").focus();
  });
})();
