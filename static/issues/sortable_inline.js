"use strict";
// Reorders the rows of a tabular inline (fieldset.bell-sortable) by dragging a handle, or with
// the arrow keys on it. The position inputs stay the truth the server reads: this script only
// renumbers them in the order of the rows, so without it editors type the numbers themselves.
{
    const POSITION = 'input[name$="-position"]';
    const HANDLE_CLASS = "bell-drag-handle";
    // The admin's change form loads Django's JavaScript catalog; elsewhere, English it is.
    const translate = typeof window.gettext === "function" ? window.gettext : (text) => text;

    function sortableRows(tbody) {
        return Array.from(tbody.querySelectorAll(":scope > tr.form-row")).filter(
            (row) => !row.classList.contains("empty-form") && row.querySelector(POSITION)
        );
    }

    function renumber(tbody) {
        sortableRows(tbody).forEach((row, index) => {
            const input = row.querySelector(POSITION);
            if (input.value !== String(index + 1)) {
                input.value = index + 1;
                // A new order is an unsaved change, like typing: the workflow buttons wait for it.
                input.dispatchEvent(new Event("change", { bubbles: true }));
            }
        });
    }

    function addHandle(row) {
        const cell = row.querySelector(POSITION)?.closest("td");
        if (!cell || cell.querySelector("." + HANDLE_CLASS)) {
            return;
        }
        const handle = document.createElement("button");
        handle.type = "button";
        handle.className = HANDLE_CLASS;
        handle.title = translate("Drag to reorder, or use the arrow keys");
        handle.setAttribute("aria-label", handle.title);
        handle.textContent = "\u283f";
        cell.prepend(handle);
    }

    // Taking a row's place once the pointer passes its middle keeps rows of different heights
    // from swapping back and forth under a still pointer.
    function moveTo(row, clientY, tbody) {
        const others = sortableRows(tbody).filter((other) => other !== row);
        if (others.length === 0) {
            return false;
        }
        const order = sortableRows(tbody);
        const middle = (other) => {
            const box = other.getBoundingClientRect();
            return box.top + box.height / 2;
        };
        const above = others.filter((other) => order.indexOf(other) < order.indexOf(row));
        const below = others.filter((other) => order.indexOf(other) > order.indexOf(row));
        const passedUp = above.find((other) => clientY <= middle(other));
        if (passedUp) {
            passedUp.before(row);
            return true;
        }
        const passedDown = below.filter((other) => clientY >= middle(other)).pop();
        if (passedDown) {
            passedDown.after(row);
            return true;
        }
        return false;
    }

    function startDrag(event, handle) {
        if (event.button !== 0) {
            return;
        }
        event.preventDefault();
        const row = handle.closest("tr");
        const tbody = row.parentElement;
        row.classList.add("bell-dragging");
        handle.setPointerCapture(event.pointerId);
        const onMove = (moveEvent) => {
            if (moveTo(row, moveEvent.clientY, tbody)) {
                renumber(tbody);
            }
        };
        const onEnd = () => {
            handle.removeEventListener("pointermove", onMove);
            handle.removeEventListener("pointerup", onEnd);
            handle.removeEventListener("pointercancel", onEnd);
            row.classList.remove("bell-dragging");
            renumber(tbody);
        };
        handle.addEventListener("pointermove", onMove);
        handle.addEventListener("pointerup", onEnd);
        handle.addEventListener("pointercancel", onEnd);
    }

    function moveByKey(event, handle) {
        const row = handle.closest("tr");
        const tbody = row.parentElement;
        const rows = sortableRows(tbody);
        const index = rows.indexOf(row);
        if (event.key === "ArrowUp" && index > 0) {
            rows[index - 1].before(row);
        } else if (event.key === "ArrowDown" && index < rows.length - 1) {
            rows[index + 1].after(row);
        } else {
            return;
        }
        event.preventDefault();
        renumber(tbody);
        handle.focus();
    }

    function enable(fieldset) {
        const tbody = fieldset.querySelector("tbody");
        if (!tbody) {
            return;
        }
        tbody.querySelectorAll(":scope > tr.form-row").forEach(addHandle);
        // Delegated, so rows that Django's inlines.js adds later work too.
        tbody.addEventListener("pointerdown", (event) => {
            const handle = event.target.closest("." + HANDLE_CLASS);
            if (handle) {
                startDrag(event, handle);
            }
        });
        tbody.addEventListener("keydown", (event) => {
            const handle = event.target.closest("." + HANDLE_CLASS);
            if (handle) {
                moveByKey(event, handle);
            }
        });
    }

    document.addEventListener("formset:added", (event) => {
        const row = event.target;
        const tbody = row.closest("fieldset.bell-sortable tbody");
        if (!tbody) {
            return;
        }
        addHandle(row);
        const numbers = sortableRows(tbody)
            .filter((other) => other !== row)
            .map((other) => Number.parseInt(other.querySelector(POSITION).value, 10))
            .filter(Number.isFinite);
        row.querySelector(POSITION).value = Math.max(0, ...numbers) + 1;
    });

    function enableAll() {
        document.querySelectorAll("fieldset.bell-sortable").forEach(enable);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", enableAll);
    } else {
        enableAll();
    }
}
