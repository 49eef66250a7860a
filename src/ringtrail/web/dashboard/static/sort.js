// Ringtrail dashboard: sortable tables. A table marked `data-sortable` gets a button in each
// header cell with `data-sort` ("number" or "text"); a press sorts the body rows by that
// column (ascending, then descending) and says so with `aria-sort`. Numbers sort by the raw
// value a cell carries in `data-sort-value`, never by its formatted text ("UAH 1,200.00"
// after "UAH 900.00"); empty cells go last either way. The totals row (tfoot) stays put.
"use strict";

(() => {
  const collator = new Intl.Collator(document.documentElement.lang || undefined, {
    numeric: true,
    sensitivity: "base",
  });

  const cellValue = (row, index, kind) => {
    const cell = row.cells[index];
    if (!cell) return null;
    const raw = cell.dataset.sortValue;
    if (kind === "number") {
      if (raw === undefined || raw === "") return null;
      const number = Number(raw);
      return Number.isNaN(number) ? null : number;
    }
    const text = (raw !== undefined ? raw : cell.textContent || "").trim();
    return text === "" || text === "—" ? null : text;
  };

  const compare = (a, b, kind) => (kind === "number" ? a - b : collator.compare(a, b));

  const sortBy = (table, header, index) => {
    const kind = header.dataset.sort;
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    for (const body of table.tBodies) {
      const rows = Array.from(body.rows).map((row, position) => ({
        row,
        position,
        value: cellValue(row, index, kind),
      }));
      rows.sort((a, b) => {
        if (a.value === null || b.value === null) {
          if (a.value === b.value) return a.position - b.position;
          return a.value === null ? 1 : -1;
        }
        const order = compare(a.value, b.value, kind);
        return (ascending ? order : -order) || a.position - b.position;
      });
      for (const item of rows) body.appendChild(item.row);
    }
  };

  const enhance = (table) => {
    if (!table.tHead || !table.tHead.rows.length) return;
    Array.from(table.tHead.rows[0].cells).forEach((header, index) => {
      if (!header.dataset.sort) return;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (header.firstChild) button.appendChild(header.firstChild);
      header.appendChild(button);
      button.addEventListener("click", () => sortBy(table, header, index));
    });
    table.classList.add("sortable");
  };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("table[data-sortable]").forEach(enhance);
  });
})();
