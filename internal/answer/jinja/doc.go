// Package jinja renders prompt templates written for Jinja2, the template
// language of the prompts kura's users already have (LangChain's
// jinja2 PromptTemplate, prompts kept in Langfuse). The answer stage
// fills such a template with the question and the assembled sources
// ("{{ question }}", "{{ context }}"); everything else a real prompt
// uses around those two works as in Jinja2:
//
//   - output: {{ expr }}, with filters (| trim, | default("…"), | upper,
//     | join(", "), | truncate(200), …), attribute and item access
//     (loop.index, source.title, xs[0], s[:100]), the operators of Jinja2
//     expressions (and, or, not, comparisons, in, not in, is [not] test,
//     arithmetic and ~) and inline if ("a if cond else b");
//   - statements: {% if %} {% elif %} {% else %} {% endif %},
//     {% for x in xs %} … {% else %} … {% endfor %} (with loop.index,
//     loop.first, loop.last, …, and for a, b in m.items()), {% set x = … %}
//     and {% set x %}…{% endset %};
//   - {# comments #}, {% raw %}…{% endraw %}, whitespace control with "-"
//     on any tag ({%- … -%}, {{- … -}}, {#- … -#}), and Jinja2's default of
//     dropping one trailing newline of the template.
//
// An undefined variable renders as the empty string, as in Jinja2; its
// attributes do not exist (an error). What kura does not implement —
// macros, includes, inheritance, call and filter blocks, unknown filters
// and tests — is refused when the template is parsed, with an error that
// names the template line, so a prompt never renders half-understood.
//
// Rendering is bounded: loops stop after [MaxIterations] iterations and
// output after [MaxOutput] bytes, so a template cannot hang or exhaust the
// process whatever its data.
package jinja
