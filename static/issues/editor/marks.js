// Marks beside blocks that other apps point out (the sources app: blocks that cite a source),
// drawn as node decorations from the editor's map of block id to label.
import { Extension, pm } from "../../django_prose_editor/editor.js";

export const MARKS = new pm.state.PluginKey("bellBlockMarks");

export function blockMarks(editor) {
    return Extension.create({
        name: "bellBlockMarks",
        addProseMirrorPlugins: () => [
            new pm.state.Plugin({
                key: MARKS,
                props: {
                    decorations(state) {
                        const found = [];
                        state.doc.descendants((node, position) => {
                            const label = editor.marks.get(node.attrs.blockId);
                            if (label) {
                                const attributes = { "data-bell-mark": "", title: label };
                                const end = position + node.nodeSize;
                                found.push(pm.view.Decoration.node(position, end, attributes));
                            }
                            return node.type.name === "doc" || node.type.name === "bulletList";
                        });
                        return pm.view.DecorationSet.create(state.doc, found);
                    },
                },
            }),
        ],
    });
}
