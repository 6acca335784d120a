// The wizard's small helpers; everything works without them, they only save round trips.
"use strict";

(function () {
  // Jump to the error summary so screen readers announce it.
  const summary = document.getElementById("error-summary") || document.getElementById("conflict");
  if (summary) {
    summary.focus();
  }

  // Further definitions: add and remove rows in the browser (Django formset).
  const addButton = document.getElementById("definition-add");
  const template = document.getElementById("definition-template");
  const container = document.getElementById("definition-forms");
  const total = document.querySelector("input[name='definitions-TOTAL_FORMS']");
  if (addButton && template && container && total) {
    addButton.addEventListener("click", function (event) {
      event.preventDefault();
      const index = parseInt(total.value, 10);
      const html = template.innerHTML.replace(/__prefix__/g, String(index));
      container.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      const added = container.lastElementChild;
      const input = added.querySelector("input, textarea");
      if (input) {
        input.focus();
      }
    });
    container.addEventListener("click", function (event) {
      const button = event.target.closest(".definition-remove");
      if (button) {
        // An unsaved row: clearing it makes the formset ignore it.
        const row = button.closest(".definition-form");
        row.querySelectorAll("input[type=text], textarea").forEach(function (field) {
          field.value = "";
        });
        row.hidden = true;
      }
    });
  }

  // Funnel: show the conversion rates while typing, Swiss style (45,6 %).
  const funnel = document.getElementById("funnel-form");
  if (funnel) {
    const parse = function (text) {
      const digits = text.replace(/[’'\s\u00a0]/g, "");
      return /^\d+$/.test(digits) ? parseInt(digits, 10) : null;
    };
    const update = function () {
      const rows = funnel.querySelectorAll("tbody tr");
      let previous = null;
      rows.forEach(function (row, index) {
        const value = parse(row.querySelector(".funnel-figure").value);
        if (index > 0) {
          const cell = row.querySelector(".funnel-rate");
          if (previous && value !== null) {
            const rate = (value * 100) / previous;
            const [whole, tenth] = rate.toFixed(1).split(".");
            cell.textContent = whole.replace(/\B(?=(\d{3})+(?!\d))/g, "’") + "," + tenth + "\u00a0%";
          } else {
            cell.textContent = "–";
          }
        }
        previous = value;
      });
    };
    funnel.addEventListener("input", update);
  }
})();
