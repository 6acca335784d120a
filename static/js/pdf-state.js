// The agreement page while its signed PDF is being made: ask the server for the PDF
// button every few seconds and show the download as soon as the PDF is stored. The
// page works without this script too: its "Neu laden" link does the same by hand.
"use strict";

(function () {
  const box = document.querySelector("[data-pdf-poll]");
  if (!box) {
    return;
  }
  const url = box.dataset.pdfPoll;
  // A render takes seconds; a task being retried, minutes. Ask less often as time
  // passes, and stop after ten minutes (the reload link stays).
  const deadline = Date.now() + 10 * 60 * 1000;
  let delay = 1000;

  function schedule() {
    if (Date.now() < deadline) {
      delay = Math.min(delay * 1.5, 15000);
      window.setTimeout(poll, delay);
    }
  }

  function poll() {
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        const template = document.createElement("template");
        template.innerHTML = html.trim();
        const part = template.content.firstElementChild;
        if (part && part.dataset.pdfState !== "pending") {
          box.replaceChildren(template.content);
        } else {
          schedule();
        }
      })
      .catch(schedule);
  }

  window.setTimeout(poll, delay);
})();
