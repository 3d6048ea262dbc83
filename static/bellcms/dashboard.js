"use strict";
// The dashboard's countdown to the next send (templates/admin/dashboard/next_send.html). The
// server writes the time left as of the page's loading; this counts it down from that figure
// and the time elapsed since, not from the browser's clock, which may be wrong. Without
// JavaScript the page reads as of its loading.
{
    const loaded = performance.now();
    const MINUTE = 60;

    function tick(element) {
        const elapsed = (performance.now() - loaded) / 1000;
        const left = Number(element.dataset.secondsLeft) - elapsed;
        if (left <= 0) {
            element.textContent = element.dataset.dueText;
            return false;
        }
        // Whole minutes rounded up, as the server writes them.
        let minutes = Math.ceil(left / MINUTE);
        const days = Math.floor(minutes / (24 * 60));
        minutes -= days * 24 * 60;
        const hours = Math.floor(minutes / 60);
        minutes -= hours * 60;
        const parts = { days, hours, minutes };
        element.querySelectorAll("[data-part]").forEach((part) => {
            const text = String(parts[part.dataset.part]);
            if (part.textContent !== text) {
                part.textContent = text;
            }
        });
        return true;
    }

    function start() {
        const countdowns = Array.from(document.querySelectorAll("[data-bell-countdown]")).filter(
            (element) => element.querySelector("[data-part]"),
        );
        if (!countdowns.length) {
            return;
        }
        const timer = setInterval(() => {
            const running = countdowns.filter(tick);
            if (!running.length) {
                clearInterval(timer);
            }
        }, 1000);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}
