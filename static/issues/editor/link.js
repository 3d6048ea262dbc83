// The link dialog (Ctrl/⌘-K or the Link button): only an address, which is all a block's
// Markdown keeps; http, https and mailto only. It sits inside the story's form, so its field
// has no name and Enter applies the link instead of saving the story.
import { linkAllowed } from "./markdown.js";

export class LinkDialog {
    constructor(editor) {
        this.editor = editor;
        this.dialog = editor.root.querySelector("[data-bell-editor-link]");
        this.input = this.dialog.querySelector("input");
        this.hint = this.dialog.querySelector("[data-bell-editor-link-hint]");
        this.dialog.querySelectorAll("[data-bell-link-action]").forEach((button) => {
            button.addEventListener("click", () => this.act(button.dataset.bellLinkAction));
        });
        this.input.addEventListener("keydown", (event) => {
            if (event.key === "Enter") {
                event.preventDefault();
                this.act("apply");
            }
        });
        // Escape closes the dialog without act(): the text gets the cursor back. After act(),
        // which has focused the text already, the close event comes a moment later: focusing
        // again then would put back the selection of before a key the writer already pressed
        // (End, say), and what they type next would replace the linked words.
        this.dialog.addEventListener("close", () => {
            if (!this.editor.editor.isFocused) {
                this.editor.editor.commands.focus();
            }
        });
    }

    open() {
        this.input.value = this.editor.editor.getAttributes("link").href || "";
        this.input.removeAttribute("aria-invalid");
        this.hint.classList.remove("errornote");
        this.dialog.showModal();
        this.input.focus();
        return true;
    }

    act(action) {
        let href = this.input.value.trim();
        if (action === "apply" && href && !/^[a-z][a-z0-9+.-]*:/i.test(href)) {
            href = href.includes("@") && !href.includes("/") ? `mailto:${href}` : `https://${href}`;
        }
        if (action === "apply" && href && !linkAllowed(href)) {
            this.input.setAttribute("aria-invalid", "true");
            this.hint.classList.add("errornote");
            return;
        }
        this.dialog.close();
        const chain = this.editor.editor.chain().focus().extendMarkRange("link");
        if (action === "remove" || (action === "apply" && !href)) {
            chain.unsetLink().run();
        } else if (action === "apply") {
            chain.setLink({ href }).run();
        }
    }
}
