// billdrift web app: small progressive enhancements; every page works without them.
"use strict";

function pollJob(box) {
  // While a check runs, ask for its state every second and show it; reload the page
  // when it ends so the new run appears in the table.
  const state = box.querySelector("#job-state");
  const read = box.querySelector("#job-read");
  const tick = async () => {
    let job;
    try {
      const response = await fetch(box.dataset.poll, { headers: { Accept: "application/json" } });
      job = await response.json();
    } catch (error) {
      setTimeout(tick, 2000);
      return;
    }
    if (!job) return;
    if (job.state !== "running") {
      window.location.reload();
      return;
    }
    state.textContent = job.step;
    read.textContent = Object.entries(job.read)
      .map(([what, n]) => `${n.toLocaleString()} ${what} read`).join(" ");
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  // A select marked data-autosubmit submits its form when changed (the button stays
  // for keyboard and no-script use).
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  const job = document.querySelector("#job[data-state='running']");
  if (job) pollJob(job);
});
