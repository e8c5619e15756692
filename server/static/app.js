/* Small page behaviour without inline script (CSP): sortable tables, auto-submitting selects,
   confirmations, jumping to an error's line in the editor. */
"use strict";

function sortTable(table, column, numeric, ascending) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const key = (row) => {
    const cell = row.cells[column];
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    return numeric ? parseFloat(raw) : raw.toLocaleLowerCase();
  };
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    const order = numeric ? x - y : x.localeCompare(y, document.documentElement.lang);
    return ascending ? order : -order;
  });
  rows.forEach((row) => body.appendChild(row));
}

function setUpSorting() {
  document.querySelectorAll("table.sortable").forEach((table) => {
    table.querySelectorAll("th button[data-sort]").forEach((button) => {
      button.addEventListener("click", () => {
        const th = button.closest("th");
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th").forEach((other) => other.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        sortTable(table, th.cellIndex, button.dataset.sort === "num", ascending);
      });
    });
  });
}

function setUpAutoSubmit() {
  document.querySelectorAll("select.autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
}

function setUpConfirmations() {
  document.querySelectorAll("button.confirm").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
}

function goToLine(textarea, line) {
  const lines = textarea.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
  textarea.focus();
  textarea.setSelectionRange(start, start + (lines[line - 1] || "").length);
  const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 18;
  textarea.scrollTop = Math.max(0, (line - 4) * lineHeight);
}

function setUpLineLinks() {
  const textarea = document.getElementById("text");
  if (!textarea) return;
  document.querySelectorAll("a.goto-line").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      goToLine(textarea, parseInt(link.dataset.line, 10));
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpSorting();
  setUpAutoSubmit();
  setUpConfirmations();
  setUpLineLinks();
});
