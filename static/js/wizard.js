// The wizard's helpers. Everything works without them: they save round trips, show the
// document while typing and guard against leaving with unsaved input.
"use strict";

(function () {
  const form = document.getElementById("step-form");

  // Jump to the error summary or the conflict so screen readers announce it.
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
      added.querySelectorAll("[maxlength]").forEach(addCounter);
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
        form.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
  }

  // Funnel: the conversion rates while typing, Swiss style (45,6 %; 1,27 : 1 above 100 %),
  // and a hint where a stage exceeds the one before. Reads figures as agreements.numbers
  // does; what it cannot read shows "–" here, and the server says why on saving.
  const funnel = document.getElementById("funnel-form");
  if (funnel) {
    const parse = function (text) {
      let value = text.trim().replace(/[’'ʼ‘\s\u00a0\u202f\u2009]/g, "_");
      const marks = new Set(value.replace(/\d/g, ""));
      if (marks.size === 1 && /^[1-9]\d{0,2}([_.,]\d{3})+$/.test(value)) {
        value = value.replace(/[_.,]/g, "");
      }
      return /^\d+$/.test(value) ? parseInt(value, 10) : null;
    };
    const grouped = function (digits) {
      return digits.replace(/\B(?=(\d{3})+(?!\d))/g, "’");
    };
    // As agreements.numbers.format_rate: a percentage up to 100, above a ratio "1,27 : 1".
    const rateText = function (rate) {
      if (rate <= 100) {
        const [whole, tenth] = rate.toFixed(1).split(".");
        return grouped(whole) + "," + tenth + "\u00a0%";
      }
      const [whole, hundredths] = (rate / 100).toFixed(2).split(".");
      const fraction = hundredths.replace(/0+$/, "");
      return grouped(whole) + (fraction ? "," + fraction : "") + "\u00a0:\u00a01";
    };
    const update = function () {
      let previous = null;
      funnel.querySelectorAll("tbody tr").forEach(function (row, index) {
        const value = parse(row.querySelector(".funnel-figure").value);
        if (index > 0) {
          const cell = row.querySelector(".funnel-rate");
          const hint = row.querySelector(".funnel-hint");
          if (previous && value !== null) {
            const rate = (value * 100) / previous;
            cell.textContent = rateText(rate);
            hint.hidden = rate <= 100;
          } else {
            cell.textContent = "–";
            hint.hidden = true;
          }
        }
        previous = value;
      });
    };
    funnel.addEventListener("input", update);
    update();
  }

  // A visible counter under every field with a length limit; and a word when a pasted
  // text was longer than the limit, which the browser cuts without saying so.
  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, function (match, name) {
      return name in values ? String(values[name]) : match;
    });
  }
  function addCounter(field) {
    if (!form || !field.id || document.getElementById(field.id + "-counter")) {
      return;
    }
    const max = parseInt(field.getAttribute("maxlength"), 10);
    const counter = document.createElement("div");
    counter.id = field.id + "-counter";
    counter.className = "form-text text-end char-counter";
    const show = function () {
      counter.textContent = format(form.dataset.counterText, { count: field.value.length, max: max });
      counter.classList.toggle("text-danger", field.value.length >= max);
    };
    field.insertAdjacentElement("afterend", counter);
    const described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    field.setAttribute("aria-describedby", described.concat(counter.id).join(" "));
    field.addEventListener("input", show);
    field.addEventListener("paste", function (event) {
      const pasted = (event.clipboardData || window.clipboardData).getData("text");
      const selected = field.selectionEnd - field.selectionStart;
      if (field.value.length - selected + pasted.length > max) {
        let note = document.getElementById(field.id + "-cut");
        if (!note) {
          note = document.createElement("div");
          note.id = field.id + "-cut";
          note.className = "form-text text-danger";
          note.setAttribute("role", "status");
          counter.insertAdjacentElement("afterend", note);
        }
        note.textContent = format(form.dataset.cutText, { max: max });
      }
    });
    show();
  }
  if (form) {
    form.querySelectorAll("input[maxlength], textarea[maxlength]").forEach(addCounter);
  }

  // Leaving with unsaved input asks first; every way on that saves (the buttons, the
  // step list) submits the form and asks nothing.
  if (form) {
    let dirty = false;
    const changed = function () {
      dirty = true;
    };
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("submit", function () {
      dirty = false;
    });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) {
        event.preventDefault();
        event.returnValue = form.dataset.unsavedText || "";
      }
    });
  }

  // Live preview: the document with the values as typed, rendered by the server a moment
  // after the last key (nothing is saved). Without JavaScript it shows the saved state.
  const preview = document.getElementById("preview-document");
  if (form && preview && preview.dataset.url) {
    const scrolls = function () {
      return getComputedStyle(preview).overflowY === "auto";
    };
    const section = preview.dataset.section && document.getElementById(preview.dataset.section);
    if (section && scrolls()) {
      preview.scrollTop = section.offsetTop - 8; // the body is the section's offsetParent
    }
    let timer = null;
    let pending = null;
    const refresh = function () {
      const data = new FormData(form);
      form.querySelectorAll("input[type=file]").forEach(function (input) {
        data.delete(input.name);
      });
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      preview.setAttribute("aria-busy", "true");
      fetch(preview.dataset.url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        signal: pending.signal,
      })
        .then(function (response) {
          return response.ok ? response.text() : Promise.reject(new Error(String(response.status)));
        })
        .then(function (html) {
          const top = preview.scrollTop;
          preview.innerHTML = html;
          preview.scrollTop = top;
          preview.setAttribute("aria-busy", "false");
          preview.dispatchEvent(new CustomEvent("preview:updated", { bubbles: true }));
        })
        .catch(function () {
          preview.setAttribute("aria-busy", "false");
        });
    };
    const later = function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }
})();
