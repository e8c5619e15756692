/* Form preview: send the answers typed so far to the server, which runs the real form engine,
   and show or hide questions, calculated values and errors from its answer. No expression is
   evaluated in the browser. */
"use strict";

(function () {
  const form = document.getElementById("preview");
  if (!form) return;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const status = document.getElementById("preview-status");
  const touched = new Set();
  let showAll = false;
  let pending = null;
  let sequence = 0;

  function answers() {
    const values = {};
    form.querySelectorAll(".q[data-type]").forEach((question) => {
      if (question.hidden || question.closest("[hidden]")) return;
      const name = question.dataset.q;
      const type = question.dataset.type;
      if (type === "select_multiple") {
        const checked = Array.from(question.querySelectorAll("input:checked")).map((input) => input.value);
        if (checked.length) values[name] = checked;
      } else if (type === "select_one") {
        const checked = question.querySelector("input:checked");
        if (checked) values[name] = checked.value;
      } else {
        const input = question.querySelector("input");
        if (input && input.value.trim() !== "") values[name] = input.value.trim();
      }
    });
    return values;
  }

  function show(result) {
    const errors = {};
    (result.errors || []).forEach((error) => {
      if (error.field && !errors[error.field]) errors[error.field] = error.message;
    });
    form.querySelectorAll("[data-q]").forEach((element) => {
      const name = element.dataset.q;
      if (name in result.relevant) element.hidden = !result.relevant[name];
    });
    form.querySelectorAll("[data-error-of]").forEach((slot) => {
      const name = slot.dataset.errorOf;
      const message = (showAll || touched.has(name)) ? (errors[name] || "") : "";
      slot.textContent = message;
      slot.closest(".q").classList.toggle("invalid", message !== "");
    });
    form.querySelectorAll("[data-value-of]").forEach((output) => {
      const value = result.values[output.dataset.valueOf];
      output.textContent = value === undefined ? "–" : String(value);
    });
    status.textContent = showAll ? (result.ok ? form.dataset.okText || "✓" : "✗ " + result.errors.length) : "";
  }

  async function check() {
    const mine = ++sequence;
    const response = await fetch(form.dataset.checkUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify({answers: answers(), version: form.dataset.version || null}),
    });
    if (!response.ok && response.status !== 422) return;
    const result = await response.json();
    if (mine === sequence) show(result);
    form.dataset.checked = String(mine);
  }

  function soon() {
    clearTimeout(pending);
    pending = setTimeout(check, 200);
  }

  form.addEventListener("input", (event) => { if (event.target.name) touched.add(event.target.name); soon(); });
  form.addEventListener("change", (event) => { if (event.target.name) touched.add(event.target.name); soon(); });
  form.addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("check-all").addEventListener("click", () => { showAll = true; check(); });
  check();
})();
