// MyST tab sets (rendered by livecells.myst.html as a tablist of buttons and one panel per
// tab, every panel shown): once mounted, one panel shows at a time and the tabs switch by
// mouse and by keyboard (arrows, Home, End), as the WAI-ARIA tabs pattern has it.

let counter = 0;

export function mountTabs(root: ParentNode): void {
  for (const set of root.querySelectorAll<HTMLElement>(".lc-tabs:not(.lc-tabs-ready)")) {
    const tabs = [...set.querySelectorAll<HTMLButtonElement>(":scope > [role=tablist] > [role=tab]")];
    const panels = [...set.querySelectorAll<HTMLElement>(":scope > [role=tabpanel]")];
    if (!tabs.length || tabs.length !== panels.length) continue;
    set.classList.add("lc-tabs-ready");
    const select = (chosen: number, focus: boolean) => {
      tabs.forEach((tab, index) => {
        const selected = index === chosen;
        tab.setAttribute("aria-selected", String(selected));
        tab.tabIndex = selected ? 0 : -1;
        panels[index].hidden = !selected;
      });
      if (focus) tabs[chosen].focus();
    };
    tabs.forEach((tab, index) => {
      const id = `lc-tab-${++counter}`;
      tab.id = id;
      panels[index].id = `${id}-panel`;
      tab.setAttribute("aria-controls", panels[index].id);
      panels[index].setAttribute("aria-labelledby", id);
      tab.addEventListener("click", () => select(index, false));
      tab.addEventListener("keydown", (event) => {
        const last = tabs.length - 1;
        const next: Record<string, number> = {
          ArrowRight: index === last ? 0 : index + 1,
          ArrowLeft: index === 0 ? last : index - 1,
          Home: 0,
          End: last,
        };
        if (event.key in next) {
          event.preventDefault();
          select(next[event.key], true);
        }
      });
    });
    select(Math.max(0, tabs.findIndex((tab) => tab.getAttribute("aria-selected") === "true")), false);
  }
}
