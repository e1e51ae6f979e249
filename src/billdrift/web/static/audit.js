// The "Audit files" page: drop zones for the file inputs and live progress of a run.
// Every step works without this script (plain form posts, a refreshing progress page).
"use strict";

// Decimal units, as the server and file managers show sizes.
function shownSize(bytes) {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

function listChosen(zone, input) {
  const list = zone.querySelector(".chosen");
  if (!list) return;
  list.replaceChildren(...Array.from(input.files).map((file) => {
    const item = document.createElement("li");
    item.textContent = `${file.name} (${shownSize(file.size)})`;
    return item;
  }));
}

function setUpDropZone(zone) {
  const input = document.getElementById(zone.dataset.dropFor);
  if (!input) return;
  input.addEventListener("change", () => listChosen(zone, input));
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("over"); });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const dropped = event.dataTransfer && event.dataTransfer.files;
    if (!dropped || dropped.length === 0) return;
    const kept = new DataTransfer();
    const files = input.multiple ? Array.from(input.files).concat(Array.from(dropped)) : [dropped[0]];
    for (const file of files) kept.items.add(file);
    input.files = kept.files;
    listChosen(zone, input);
  });
}

function showSteps(box, steps) {
  const list = box.querySelector("#steps");
  list.replaceChildren(...steps.map((step) => {
    const item = document.createElement("li");
    const time = document.createElement("span");
    time.className = "muted";
    time.textContent = `${step.elapsed.toFixed(1)} s`;
    item.append(time, ` ${step.message}`);
    return item;
  }));
}

function pollProgress(box) {
  const tick = async () => {
    let state;
    try {
      const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
      state = await response.json();
    } catch (error) {
      setTimeout(tick, 2000);
      return;
    }
    showSteps(box, state.steps);
    if (state.finished || !state.running) {
      window.location.assign(box.dataset.reportUrl);
      return;
    }
    setTimeout(tick, 500);
  };
  setTimeout(tick, 300);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const zone of document.querySelectorAll("[data-drop-for]")) setUpDropZone(zone);
  const form = document.getElementById("upload-form");
  if (form) form.addEventListener("submit", () => {
    const button = document.getElementById("upload");
    button.disabled = true;
    button.textContent = "Uploading…";
  });
  const box = document.getElementById("progress");
  if (box && box.querySelector("progress")) pollProgress(box);
});
