/**
 * Jinja2 templates as apssh users write them, with the output Jinja2 gives (read from the Jinja2
 * documentation; jinja-corpus.test.ts also renders them with Jinja2 itself when python3-jinja2
 * can be had, and checks these outputs against it). One case per construct of issue 15.
 */
export interface CorpusCase {
  readonly name: string;
  readonly template: string;
  readonly context: Record<string, unknown>;
  readonly expected: string;
}

const nodes = { amf: 'fit01', gnb: 'fit02', ue: 'fit03' };
const pods = [
  { name: 'amf', ready: true, node: 'fit01' },
  { name: 'smf', ready: false, node: 'fit02' },
  { name: 'upf', ready: true, node: 'fit01' },
];

export const CORPUS: readonly CorpusCase[] = [
  // dicts
  {
    name: 'dict.items() in a for loop, two targets',
    template: '{% for function, host in nodes.items() %}{{ function }}={{ host }} {% endfor %}',
    context: { nodes },
    expected: 'amf=fit01 gnb=fit02 ue=fit03 ',
  },
  {
    name: 'dict.keys()',
    template: '{{ nodes.keys() | join(",") }}',
    context: { nodes },
    expected: 'amf,gnb,ue',
  },
  {
    name: 'dict.values() | join',
    template: "rhubarbe load {{ nodes.values() | join(' ') }}",
    context: { nodes },
    expected: 'rhubarbe load fit01 fit02 fit03',
  },
  {
    name: 'dict.get() with and without a default',
    template: "{{ nodes.get('amf') }} {{ nodes.get('core', 'fit00') }}",
    context: { nodes },
    expected: 'fit01 fit00',
  },
  {
    name: 'dict attribute and subscript',
    template: "{{ nodes.amf }} {{ nodes['gnb'] }}",
    context: { nodes },
    expected: 'fit01 fit02',
  },
  {
    name: 'a for loop over a dict with one variable goes over its keys',
    template: '{% for f in nodes %}{{ f }} {% endfor %}{{ nodes | list | join(",") }}',
    context: { nodes },
    expected: 'amf gnb ue amf,gnb,ue',
  },
  {
    name: "Python's truth: empty lists and dicts are false; and/or give an operand",
    template:
      "{% if l %}full{% else %}empty{% endif %} {% if not d %}none{% endif %} {{ l or 'x' }} {{ d or 'e' }} {{ 'a' and 'b' }} {{ 'y' if l else 'n' }}",
    context: { l: [], d: {} },
    expected: 'empty none x e b n',
  },
  {
    name: 'lists, dicts, True and None printed as Python prints them',
    template: "{{ l }} {{ d }} {{ 'a' ~ True ~ None }} {{ 'host: %s' % l[1] }}",
    context: { l: [1, 'a', true, null], d: { k: 'v' } },
    expected: "[1, 'a', True, None] {'k': 'v'} aTrueNone host: a",
  },
  // lists
  {
    name: 'list.append through set',
    template:
      '{% set hosts = [] %}{% for h in nodes.values() %}{% set _ = hosts.append(h ~ ".lab") %}{% endfor %}{{ hosts | join(" ") }}',
    context: { nodes },
    expected: 'fit01.lab fit02.lab fit03.lab',
  },
  {
    name: 'list.index() and count()',
    template: "{{ l.index('b') }} {{ l.count('a') }}",
    context: { l: ['a', 'b', 'a'] },
    expected: '1 2',
  },
  {
    name: 'list slice',
    template: '{{ l[1:] | join(",") }} {{ l[:2] | join(",") }}',
    context: { l: [1, 2, 3] },
    expected: '2,3 1,2',
  },
  // strings
  {
    name: 'str.upper(), lower(), strip()',
    template: "{{ 'fit01'.upper() }} {{ 'FIT'.lower() }} [{{ '  x  '.strip() }}] [{{ 'xxhixx'.strip('x') }}]",
    context: {},
    expected: 'FIT01 fit [x] [hi]',
  },
  {
    name: 'str.split() with and without a separator',
    template:
      "{{ 'a,b,c'.split(',') | join('+') }} {{ '  a  b c '.split() | length }} {{ 'a:b:c'.split(':', 1) | last }}",
    context: {},
    expected: 'a+b+c 3 b:c',
  },
  {
    name: 'str.startswith(), endswith()',
    template: "{{ host.startswith('fit') }} {{ host.endswith('.yaml') }} {{ host.startswith(('x', 'fi')) }}",
    context: { host: 'fit01' },
    expected: 'True False True',
  },
  {
    name: 'str.replace() replaces every occurrence',
    template: "{{ 'a-b-c'.replace('-', '_') }}",
    context: {},
    expected: 'a_b_c',
  },
  {
    name: 'str.format() positional and named',
    template:
      "{{ '{}@{}'.format(user, host) }} {{ '{0}-{0}'.format('x') }} {{ '{name}!'.format(name='hi') }}",
    context: { user: 'root', host: 'fit01' },
    expected: 'root@fit01 x-x hi!',
  },
  // literals
  {
    name: 'True, False, None',
    template:
      '{{ True }} {{ False }} {{ None }} {% if flag == True %}yes{% endif %}{% if nothing is none %} none{% endif %}',
    context: { flag: true, nothing: null },
    expected: 'True False None yes none',
  },
  // loops
  {
    name: 'loop.index, loop.first, loop.last',
    template:
      '{% for h in hosts %}{% if loop.first %}[{% endif %}{{ loop.index }}:{{ h }}{% if not loop.last %},{% else %}]{% endif %}{% endfor %}',
    context: { hosts: ['a', 'b', 'c'] },
    expected: '[1:a,2:b,3:c]',
  },
  // set, block set, macro
  {
    name: 'set',
    template: '{% set n = hosts | length %}{{ n }} hosts',
    context: { hosts: ['a', 'b'] },
    expected: '2 hosts',
  },
  {
    name: 'block set',
    template: '{% set banner %}== {{ title }} =={% endset %}{{ banner }}!',
    context: { title: 'run' },
    expected: '== run ==!',
  },
  {
    name: 'macro with a default argument',
    template:
      '{% macro ssh(host, user="root") %}{{ user }}@{{ host }}{% endmacro %}{{ ssh("fit01") }} {{ ssh("fit02", "r2lab") }}',
    context: {},
    expected: 'root@fit01 r2lab@fit02',
  },
  // filters
  {
    name: 'default and d',
    template: "{{ missing | default('x') }} {{ missing | d('y') }} {{ given | default('z') }}",
    context: { given: 'g' },
    expected: 'x y g',
  },
  {
    name: 'length',
    template: '{{ hosts | length }} {{ nodes | length }} {{ "abc" | length }}',
    context: { hosts: [1, 2], nodes },
    expected: '2 3 3',
  },
  {
    name: 'tojson (sorted keys, Python separators)',
    template: '{{ conf | tojson }}',
    context: { conf: { b: [1, 2], a: 'x', c: null, d: true } },
    expected: '{"a": "x", "b": [1, 2], "c": null, "d": true}',
  },
  {
    name: 'dictsort',
    template:
      '{% for k, v in nodes | dictsort %}{{ k }}:{{ v }} {% endfor %}|{% for k, v in nodes | dictsort(by="value", reverse=true) %}{{ v }} {% endfor %}',
    context: { nodes: { ue: 'fit03', amf: 'fit01', gnb: 'fit02' } },
    expected: 'amf:fit01 gnb:fit02 ue:fit03 |fit03 fit02 fit01 ',
  },
  {
    name: 'selectattr and rejectattr, with and without a test',
    template:
      "{{ pods | selectattr('ready') | map(attribute='name') | join(',') }} {{ pods | rejectattr('ready') | map(attribute='name') | join(',') }} {{ pods | selectattr('node', 'equalto', 'fit01') | map(attribute='name') | join(',') }}",
    context: { pods },
    expected: 'amf,upf smf amf,upf',
  },
  {
    name: 'map with a filter name',
    template: "{{ hosts | map('upper') | join(' ') }}",
    context: { hosts: ['a', 'b'] },
    expected: 'A B',
  },
  {
    name: 'int, float, string',
    template:
      "{{ '42' | int + 1 }} {{ 'x' | int }} {{ '1.5' | int }} {{ '1.5' | float * 3 }} {{ 7 | string ~ '!' }}",
    context: {},
    expected: '43 0 1 4.5 7!',
  },
  {
    name: 'lower, upper, replace, trim',
    template:
      "{{ 'ABC' | lower }} {{ 'abc' | upper }} {{ 'a.b.c' | replace('.', '/') }} [{{ '  x ' | trim }}]",
    context: {},
    expected: 'abc ABC a/b/c [x]',
  },
  {
    name: 'first, last',
    template: '{{ hosts | first }} {{ hosts | last }}',
    context: { hosts: ['a', 'b', 'c'] },
    expected: 'a c',
  },
  {
    name: 'unique (case-insensitive by default)',
    template: "{{ l | unique | join(',') }}",
    context: { l: ['a', 'b', 'A', 'a', 'c'] },
    expected: 'a,b,c',
  },
  {
    name: 'sort, with reverse and attribute',
    template:
      "{{ l | sort | join(',') }} {{ l | sort(reverse=true) | join(',') }} {{ pods | sort(attribute='node') | map(attribute='name') | join(',') }}",
    context: { l: ['b', 'C', 'a'], pods },
    expected: 'a,b,C C,b,a amf,upf,smf',
  },
  {
    name: 'items filter',
    template: '{% for k, v in nodes | items %}{{ k }}{{ v }} {% endfor %}',
    context: { nodes: { a: 1, b: 2 } },
    expected: 'a1 b2 ',
  },
  {
    name: 'batch',
    template: "{% for row in hosts | batch(2) %}{{ row | join('+') }};{% endfor %}",
    context: { hosts: ['a', 'b', 'c'] },
    expected: 'a+b;c;',
  },
  {
    name: 'indent',
    template: '{{ text | indent(2) }}|{{ text | indent(2, true) }}',
    context: { text: 'a\nb' },
    expected: 'a\n  b|  a\n  b',
  },
  {
    name: 'join with attribute',
    template: "{{ pods | join(',', attribute='name') }}",
    context: { pods },
    expected: 'amf,smf,upf',
  },
  // tests
  {
    name: 'is defined, is undefined',
    template:
      '{% if given is defined %}d{% endif %}{% if missing is undefined %}u{% endif %}{% if missing is not defined %}n{% endif %}',
    context: { given: 1 },
    expected: 'dun',
  },
  {
    name: 'in and not in',
    template: "{{ 'amf' in nodes }} {{ 'x' not in hosts }} {% if 'fit' in host %}fit{% endif %}",
    context: { nodes, hosts: ['a'], host: 'fit01' },
    expected: 'True True fit',
  },
  {
    name: 'the in test written as a test: is in, is not in',
    template:
      "{% if 'a' is in hosts %}a{% endif %}{% if 'z' is not in hosts %}z{% endif %}{{ 1 is in [1, 2] }} {{ 'is in' }}",
    context: { hosts: ['a', 'b'] },
    expected: 'azTrue is in',
  },
  {
    name: 'the in test, through select',
    template: "{{ l | select('in', ['a', 'c']) | join(',') }}",
    context: { l: ['a', 'b', 'c'] },
    expected: 'a,c',
  },
  {
    name: 'the none test, through reject',
    template: "{{ l | reject('none') | join(',') }}",
    context: { l: ['a', null, 'c'] },
    expected: 'a,c',
  },
  // expressions
  {
    name: 'string and list repetition',
    template: "{{ '-' * 5 }} {{ ([0] * 3) | length }}",
    context: {},
    expected: '----- 3',
  },
  {
    name: 'printf flags, width and precision',
    template: "{{ '%5.1f|%-4s|%03d|%+d' % (3.14159, 'a', 7, 2) }}",
    context: {},
    expected: '  3.1|a   |007|+2',
  },
  {
    name: 'negative indexes',
    template: "{{ l[-1] }} {{ 'fit01'[-2:] }} {{ l[-2] }}",
    context: { l: [1, 2, 3] },
    expected: '3 01 2',
  },
  {
    name: 'reversed slice',
    template: '{{ l[::-1] | join(",") }}',
    context: { l: [1, 2, 3] },
    expected: '3,2,1',
  },
  {
    name: 'for … else',
    template: '{% for x in l %}{{ x }}{% else %}empty{% endfor %}',
    context: { l: [] },
    expected: 'empty',
  },
  {
    name: 'whitespace control',
    template: 'a {%- if true %} b {% endif -%} c',
    context: {},
    expected: 'a b c',
  },
  {
    name: 'loop.length, revindex, index0',
    template: '{% for x in l %}{{ loop.length }}{{ loop.revindex }}{{ loop.index0 }} {% endfor %}',
    context: { l: [1, 2] },
    expected: '220 211 ',
  },
  {
    name: 'call and caller()',
    template: '{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}in{% endcall %}',
    context: {},
    expected: '<in>',
  },
  {
    name: 'sum, reverse, round, abs, center, wordcount, title, capitalize',
    template:
      '{{ l | sum }} {{ l | reverse | join }} {{ 2.567 | round(2) }} {{ -3 | abs }} [{{ "ab" | center(6) }}] {{ "a b c" | wordcount }} {{ "hello world" | title }} {{ "hELLO" | capitalize }}',
    context: { l: [1, 2, 3] },
    expected: '6 321 2.57 3 [  ab  ] 3 Hello World Hello',
  },
  {
    name: 'select and reject with a test, is divisibleby',
    template: '{{ l | select("odd") | join }} {{ l | reject("even") | join }} {{ 3 is divisibleby(3) }}',
    context: { l: [1, 2, 3] },
    expected: '13 13 True',
  },
  {
    name: 'tojson with indent',
    template: '{{ d | tojson(indent=2) }}',
    context: { d: { b: 1, a: [1, 'x'] } },
    expected: '{\n  "a": [\n    1,\n    "x"\n  ],\n  "b": 1\n}',
  },
  {
    name: "Python's % formatting, with a tuple and a mapping; % of negative numbers",
    template: "{{ '%s@%s' % (user, host) }} {{ '%d%%' % 42 }} {{ '%(h)s' % {'h': host} }} {{ -7 % 3 }}",
    context: { user: 'root', host: 'fit01' },
    expected: 'root@fit01 42% fit01 2',
  },
  {
    name: 'inline if, ~, arithmetic',
    template: "{{ 'on' if flag else 'off' }} {{ 'fit' ~ 1 }} {{ 7 // 2 }} {{ 2 ** 3 }} {{ 7 % 3 }}",
    context: { flag: false },
    expected: 'off fit1 3 8 1',
  },
];
