"""The ? screen: keys and a short guide."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# regtui — keys

| key | action |
|-----|--------|
| **r** | run the scenario with the form's parameters (Enter in a field too) |
| **s** | stop the run (within a step); a followed run after a yes |
| **a** | follow the newest run going on elsewhere (`--detach`, another terminal, a kept run) |
| **tab** / **shift+tab** | next / previous view |
| **/** | the scenario picker (in the narrow layout its list opens: up/down, enter, escape) |
| **p** | focus the parameter form |
| **d** | focus the device selector |
| **ctrl+r** | reset the parameters to the scenario's defaults |
| **up** / **down** | previous / next field in the form |
| **escape** | leave a field (so the one-letter keys work; in a field the footer lists enter and esc) |
| **ctrl+p** | command palette (every action, and themes) |
| **?** | this help |
| **q** | quit; during a run it asks: stop it (s), or keep it running in the background (k) |

## In a view

- **A chart** (Loss, Fit, Layers, Sweep), once it has focus: **v** focus the next
  variant (the others grey) · **h** hide/show it · **t** train / test / both.
  **Loss** of a run with many metrics (the `train` kind): **m** the next metric
  group (loss, accuracy, weight norms, grad norms; the title names it; a norms
  group has a shape per layer, named under the chart).
- **A table** (Running stats, Results, Worked numbers, History): tab to the view
  focuses its first table (or click it; **down** / **enter** on the tab row too).
  **left** / **right** scroll a column at a time · **home** / **end** the first /
  last column · **up** / **down** rows, then the next table. While columns are cut
  off, the table's bottom border says how many ("→ 3 more columns").
- **Histograms** (a `train` run with `histograms = true`): **l** next layer ·
  **k** weights / gradients / activations · **v** next variant and seed. One row
  a logged step (newest last), a cell a bin: blank empty, █ the row's fullest.
- **Explain**: **up** / **down**, **pageup** / **pagedown**, **home** / **end**,
  **space**, the mouse wheel.
- **History**: **enter** open the run (read-only: the status line says so until
  the next run) · **c** compare with the shown run (the Loss view draws the
  compared run in small open shapes and darker colours, named `run #N`) ·
  **d** delete (asks first) · **f** this scenario / all.

Edit a value and the form checks it at once with the same rules as
`regtui --set`; a bad value is shown under its field and Run waits until it is
fixed. *sweep key* + *sweep values* run one model per value, like
`--sweep key=v1,v2` (numbers, `true,false`, or choices: `norm` = `batch,layer`;
random search: a range and its points, `log(1e-4,1e-1)*8`);
*seeds* > 1 repeats every variant and draws mean ± std.

After a run the bottom line shows the headless command that reproduces it.

Press **escape**, **q** or **?** to close.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", show=True),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 84;
        height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)
