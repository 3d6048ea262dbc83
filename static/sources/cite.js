// "Cite a source" in the story editor: for the block the cursor is in, choose the sources and
// one of their approved descriptions; the citation is saved at once (sources/admin/editor.py).
const translate = typeof window.gettext === "function" ? window.gettext : (text) => text;

function element(tag, attributes = {}, text = "") {
    const node = document.createElement(tag);
    Object.entries(attributes).forEach(([name, value]) => node.setAttribute(name, value));
    node.textContent = text;
    return node;
}

class CiteTool {
    constructor(editor) {
        this.editor = editor;
        this.data = editor.data.extensions.sources;
        this.dialog = document.querySelector("[data-bell-cite]");
        this.error = this.dialog.querySelector("[data-bell-cite-error]");
        this.descriptor = this.dialog.querySelector("[data-bell-cite-descriptor]");
        const button = element("button", { type: "button", "data-bell-command": "cite" }, translate("Cite a source"));
        button.addEventListener("click", () => this.open());
        editor.addTool(button);
        this.fillSources();
        this.dialog.querySelectorAll("[data-bell-cite-action]").forEach((action) => {
            action.addEventListener("click", () =>
                action.dataset.bellCiteAction === "cite" ? this.cite() : this.dialog.close()
            );
        });
        this.dialog.addEventListener("close", () => this.editor.editor.commands.focus());
    }

    fillSources() {
        const list = this.dialog.querySelector("[data-bell-cite-sources]");
        for (const source of this.data.sources) {
            const id = `bell-cite-source-${source.id}`;
            const box = element("input", { type: "checkbox", id, value: source.id });
            box.addEventListener("change", () => this.fillDescriptors());
            const label = element("label", { for: id }, source.codename);
            const row = element("div", { class: "bell-cite-source" });
            row.append(box, label);
            list.append(row);
        }
        this.fillDescriptors();
    }

    chosen() {
        return Array.from(this.dialog.querySelectorAll("[data-bell-cite-sources] input:checked")).map(
            (box) => Number(box.value)
        );
    }

    // The descriptions approved for every chosen source (all of them while none is chosen).
    fillDescriptors() {
        const chosen = this.data.sources.filter((source) => this.chosen().includes(source.id));
        const pool = chosen.length ? chosen : this.data.sources;
        const lists = pool.map((source) => source.descriptors);
        const texts = chosen.length
            ? lists.reduce((common, texts) => common.filter((text) => texts.includes(text)))
            : [...new Set(lists.flat())];
        const previous = this.descriptor.value;
        this.descriptor.replaceChildren(element("option", { value: "" }, "—"));
        texts.forEach((text) => this.descriptor.append(element("option", { value: text }, text)));
        this.descriptor.value = texts.includes(previous) ? previous : "";
    }

    say(message) {
        this.error.textContent = message;
        this.error.hidden = !message;
    }

    open() {
        const block = this.editor.currentBlock();
        this.say("");
        const summary = this.dialog.querySelector("[data-bell-cite-block]");
        summary.textContent = block ? `“${block.text.slice(0, 120)}${block.text.length > 120 ? "…" : ""}”` : "";
        this.block = block;
        this.dialog.showModal();
        if (this.data.sources.length === 0) {
            this.say(translate("No source can be cited yet: register one under Sources first."));
        } else if (!block || !this.data.citable.includes(block.kind)) {
            this.say(translate("Put the cursor in the paragraph or bullet point the claim is in."));
        } else if (!block.id || !this.data.url) {
            this.say(translate("This paragraph is not saved yet: save the story, then cite."));
        }
        this.dialog.querySelector("input, select")?.focus();
    }

    async cite() {
        const block = this.block;
        if (!block || !block.id || !this.data.url || !this.data.citable.includes(block.kind)) {
            return;
        }
        const response = await this.editor.postJSON(this.data.url, {
            block: block.id,
            sources: this.chosen(),
            descriptor: this.descriptor.value,
            revision: this.editor.baseRevision,
        });
        const answer = await response.json().catch(() => ({ error: translate("The citation could not be saved.") }));
        if (!response.ok) {
            this.say(answer.error);
            return;
        }
        this.editor.revised(answer.revision);
        this.editor.setMarks(answer.marks);
        this.editor.status.textContent = translate("Cited. The citation is saved with the story.");
        this.dialog.close();
    }
}

function start(editor) {
    if (editor.data.extensions?.sources) {
        new CiteTool(editor);
    }
}

if (window.bellStoryEditor) {
    start(window.bellStoryEditor);
} else {
    document.addEventListener("bell-editor-ready", (event) => start(event.detail), { once: true });
}
