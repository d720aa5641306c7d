// Small behaviours of form inputs, kept here rather than in inline handlers so
// that the Content-Security-Policy needs no 'unsafe-inline'.

// A calendar feed's address is selected whole on a click, ready to copy.
for (const input of document.querySelectorAll("input[data-select-on-click]")) {
  input.addEventListener("click", () => input.select());
}

// A select that stands for its form (the booking page's doctor) submits it on
// change, as soon as a real choice is made: not the empty "Choose…" entry, and
// not the choice the page already shows.
for (const select of document.querySelectorAll("select[data-submit-on-change]")) {
  const shown = select.value;
  select.addEventListener("change", () => {
    if (select.value && select.value !== shown) select.form.submit();
  });
}
