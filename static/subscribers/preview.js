"use strict";
// The email preview's width buttons: the frame at a phone's or a desktop's width. Without
// JavaScript the buttons stay hidden and the frame keeps the desktop width.
{
    function start() {
        const group = document.querySelector("[data-bell-email-widths]");
        const frame = document.querySelector("[data-bell-email-frame]");
        if (!group || !frame) {
            return;
        }
        const buttons = group.querySelectorAll("[data-bell-width]");
        buttons.forEach((button) => {
            button.addEventListener("click", () => {
                frame.style.width = `${button.dataset.bellWidth}px`;
                frame.setAttribute("width", button.dataset.bellWidth);
                buttons.forEach((other) => {
                    other.setAttribute("aria-pressed", String(other === button));
                });
            });
        });
        group.hidden = false;
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}
