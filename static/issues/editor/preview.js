// The story as readers will see it, beside the editor: the email or the web page, at a phone's
// or a desktop's width, rendered by the server's real renderer from what is typed now.
import { translate } from "./text.js";

// Typing pauses this long before the preview is rendered again.
const REFRESH_AFTER_MS = 600;
const OPEN_KEY = "bellcms-editor-preview-open";

export class Preview {
    constructor(editor) {
        this.editor = editor;
        this.panel = editor.root.querySelector("[data-bell-editor-preview]");
        this.toggle = editor.root.querySelector("[data-bell-preview-toggle]");
        this.box = this.panel.querySelector("[data-bell-preview-box]");
        this.frame = this.panel.querySelector("[data-bell-preview-frame]");
        this.form = "email";
        this.width = 375;
        this.timer = null;
        this.toggle.addEventListener("click", () => this.show(this.panel.hidden));
        this.panel.querySelectorAll("[data-bell-preview-form]").forEach((button) =>
            button.addEventListener("click", () => this.choose("form", button))
        );
        this.panel.querySelectorAll("[data-bell-preview-width]").forEach((button) =>
            button.addEventListener("click", () => this.choose("width", button))
        );
        this.frame.addEventListener("load", () => this.fit());
        window.addEventListener("resize", () => this.fit());
        editor.root.addEventListener("bell-editor-change", () => this.soon());
        const remembered = window.localStorage.getItem(OPEN_KEY);
        this.show(remembered === null ? window.innerWidth >= 1280 : remembered === "1", false);
    }

    show(open, remember = true) {
        this.panel.hidden = !open;
        this.toggle.setAttribute("aria-expanded", String(open));
        this.editor.root.classList.toggle("bell-editor-previewing", open);
        if (remember) {
            window.localStorage.setItem(OPEN_KEY, open ? "1" : "0");
        }
        if (open) {
            this.refresh();
        }
    }

    choose(what, button) {
        this.panel.querySelectorAll(`[data-bell-preview-${what}]`).forEach((other) =>
            other.setAttribute("aria-pressed", String(other === button))
        );
        if (what === "form") {
            this.form = button.dataset.bellPreviewForm;
        } else {
            this.width = Number(button.dataset.bellPreviewWidth);
        }
        this.refresh();
    }

    soon() {
        if (this.panel.hidden) {
            return;
        }
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.refresh(), REFRESH_AFTER_MS);
    }

    async refresh() {
        // Answers can come back out of order: only the last one asked for is shown.
        this.asked = (this.asked || 0) + 1;
        const ticket = this.asked;
        try {
            const response = await this.editor.postJSON(this.editor.data.previewUrl, {
                content: this.editor.content(),
            });
            const answer = await response.json();
            if (ticket !== this.asked) {
                return;
            }
            this.frame.srcdoc = response.ok ? answer[this.form] : `<p>${answer.error}</p>`;
        } catch {
            this.frame.srcdoc = `<p>${translate("No preview: the server cannot be reached.")}</p>`;
        }
    }

    // The page is laid out at the chosen width, then scaled down to fit the column.
    fit() {
        const scale = Math.min(1, this.box.clientWidth / this.width);
        this.frame.style.width = `${this.width}px`;
        this.frame.style.transform = `scale(${scale})`;
        const height = this.frame.contentDocument?.documentElement.scrollHeight || 600;
        this.frame.style.height = `${height}px`;
        // A transform does not change the space a frame takes: give back what scaling saved,
        // so that the column (which scrolls on its own) ends where the page does.
        this.frame.style.marginBottom = `${-Math.floor(height * (1 - scale))}px`;
        this.frame.style.marginRight = `${-Math.floor(this.width * (1 - scale))}px`;
    }
}
