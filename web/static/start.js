// The start form: drag and drop a photo onto the drop zone.
import { apply, currentLang } from "./i18n.js";

apply();
const drop = document.getElementById("drop");
const input = document.getElementById("photo");
const name = document.getElementById("dropname");
document.getElementById("lang").value = currentLang();

function show() { name.textContent = input.files.length ? input.files[0].name : ""; }
input.addEventListener("change", show);
for (const ev of ["dragenter", "dragover"]) {
  drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
}
for (const ev of ["dragleave", "drop"]) {
  drop.addEventListener(ev, () => drop.classList.remove("over"));
}
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  if (e.dataTransfer && e.dataTransfer.files.length) {
    input.files = e.dataTransfer.files;
    show();
  }
});
