#!/usr/bin/env node
/*
 * The "export (kubernetes)" test layer: for every case of tests/export/golden.list it runs
 * `tiernet export kubernetes` and checks
 *
 *   golden       stdout is exactly the golden file; every stderr line is a warning that
 *                also heads the manifests as a comment
 *   schema       every document, read as YAML 1.1 (what kubectl reads), is a Namespace or
 *                NetworkPolicy that kubernetes-models validates against the Kubernetes API
 *                schema it bundles (offline), with valid names and labels, no field this
 *                evaluator does not know, unique names, and namespaces that exist
 *   equivalence  a small evaluator of NetworkPolicy semantics (below) computes, over a model
 *                cluster, which pairs of tiers and the world may open connections on which
 *                tcp and udp ports and whether portless protocols (ICMP) pass; that must equal
 *                pair by pair and port by port (all of 1-65535, exactly) the matrix that
 *                build/k8s-matrix reads out of tiernet's compiled rules for the same policy.
 *                Evaluated twice: with ipBlocks matching only addresses outside the cluster's
 *                pods (Cilium's behaviour, and the API's intent) and with ipBlocks matching
 *                pod addresses too (Calico's).  Without --cluster-cidr the second may only
 *                allow more than tiernet: the documented gap, printed
 *   dns, outsiders  every tier reaches the cluster DNS on udp/53 and tcp/53 only; pods in no
 *                tier and the tiers never reach each other (DESIGN.md: tiers and Docker's own
 *                networks are isolated both ways)
 *   gaps         every reachability tiernet enforces that NetworkPolicy cannot express (to
 *                and from the host) is named in the warnings
 *
 * plus the command line's errors and exit statuses.  Prints "ok - ..." / "not ok - ..."
 * lines and a closing "N passed, N failed" line.  Test code only: tiernet itself has no
 * JavaScript.
 *
 * usage: node tests/export/check.js TIERNET K8S-MATRIX GOLDEN-LIST   (from the repository top;
 *        tests/export/run.sh installs the packages and runs it)
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const YAML = require('yaml');
const { NetworkPolicy } = require('kubernetes-models/networking.k8s.io/v1');
const { Namespace } = require('kubernetes-models/v1');

const [tiernet, matrixTool, listFile] = process.argv.slice(2);
if (!listFile) {
	console.error('usage: check.js TIERNET K8S-MATRIX GOLDEN-LIST');
	process.exit(2);
}

let passed = 0;
let failed = 0;

function result(ok, desc, details) {
	if (ok) {
		passed++;
		console.log(`ok - ${desc}`);
	} else {
		failed++;
		console.log(`not ok - ${desc}`);
	}
	for (const d of details || []) console.log(`#   ${d}`);
}

/* Runs a test body; an exception is a failure with its message. */
function check(desc, fn) {
	try {
		const r = fn();
		if (r === true || r === undefined) result(true, desc);
		else result(false, desc, Array.isArray(r) ? r : [String(r)]);
	} catch (e) {
		result(false, desc, [e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e)]);
	}
}

function run(cmd, args, opts = {}) {
	const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
	if (r.error) throw r.error;
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Addresses
 */

function parseAddr(text) {
	if (text.includes(':')) {
		let [head, tail] = text.split('::');
		const h = head ? head.split(':') : [];
		const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
		const fill = text.includes('::') ? 8 - h.length - t.length : 0;
		const parts = [...h, ...Array(fill).fill('0'), ...t];
		if (parts.length !== 8) throw new Error(`bad IPv6 address ${text}`);
		let v = 0n;
		for (const p of parts) v = (v << 16n) | BigInt(parseInt(p || '0', 16));
		return { fam: 6, v, bits: 128 };
	}
	const o = text.split('.').map(Number);
	if (o.length !== 4 || o.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 address ${text}`);
	return { fam: 4, v: BigInt(((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3]), bits: 32 };
}

function parseCidr(text) {
	const [a, p] = text.split('/');
	const addr = parseAddr(a);
	const prefix = Number(p);
	if (!(prefix >= 0 && prefix <= addr.bits)) throw new Error(`bad prefix in ${text}`);
	return { ...addr, prefix };
}

function inCidr(addr, cidr) {
	if (addr.fam !== cidr.fam) return false;
	const shift = BigInt(addr.bits - cidr.prefix);
	return addr.v >> shift === cidr.v >> shift;
}

/* ---------------------------------------------------------------------------------------
 * Reading the manifests: only the fields this evaluator understands
 */

const FIELDS = {
	object: ['apiVersion', 'kind', 'metadata', 'spec'],
	metadata: ['name', 'namespace', 'labels', 'annotations'],
	spec: ['podSelector', 'policyTypes', 'ingress', 'egress'],
	ingress: ['from', 'ports'],
	egress: ['to', 'ports'],
	peer: ['podSelector', 'namespaceSelector', 'ipBlock'],
	ipBlock: ['cidr', 'except'],
	selector: ['matchLabels'],
	port: ['protocol', 'port', 'endPort'],
};

function strict(obj, kind, where) {
	if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${where} is not a mapping`);
	for (const k of Object.keys(obj))
		if (!FIELDS[kind].includes(k)) throw new Error(`${where}.${k}: a field this evaluator does not know`);
}

function readSelector(sel, where) {
	strict(sel, 'selector', where);
	return sel.matchLabels || {};
}

function readPeer(p, where) {
	strict(p, 'peer', where);
	if (p.ipBlock) {
		if (p.podSelector || p.namespaceSelector) throw new Error(`${where}: ipBlock with a selector`);
		strict(p.ipBlock, 'ipBlock', `${where}.ipBlock`);
		const cidr = parseCidr(p.ipBlock.cidr);
		const except = (p.ipBlock.except || []).map(parseCidr);
		for (const e of except)
			if (e.fam !== cidr.fam || e.prefix <= cidr.prefix || !inCidr(e, cidr))
				throw new Error(`${where}: except entry not strictly inside ${p.ipBlock.cidr}`);
		return { ipBlock: { cidr, except } };
	}
	return {
		pods: p.podSelector ? readSelector(p.podSelector, `${where}.podSelector`) : null,
		namespaces: p.namespaceSelector ? readSelector(p.namespaceSelector, `${where}.namespaceSelector`) : null,
	};
}

function readPort(p, where) {
	strict(p, 'port', where);
	if (p.port !== undefined && typeof p.port !== 'number') throw new Error(`${where}: named ports are not modelled`);
	if (p.endPort !== undefined && (p.port === undefined || p.endPort < p.port)) throw new Error(`${where}: bad endPort`);
	return { proto: p.protocol || 'TCP', lo: p.port, hi: p.endPort !== undefined ? p.endPort : p.port };
}

function readRule(r, dir, where) {
	strict(r, dir, where);
	const peers = r[dir === 'ingress' ? 'from' : 'to'];
	return {
		peers: peers && peers.length ? peers.map((p, i) => readPeer(p, `${where}.peers[${i}]`)) : null,
		ports: r.ports && r.ports.length ? r.ports.map((p, i) => readPort(p, `${where}.ports[${i}]`)) : null,
	};
}

function readPolicy(o, where) {
	strict(o.spec, 'spec', `${where}.spec`);
	const spec = o.spec;
	const types = spec.policyTypes || (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
	return {
		name: o.metadata.name,
		ns: o.metadata.namespace || 'default',
		pods: readSelector(spec.podSelector, `${where}.spec.podSelector`),
		types,
		ingress: (spec.ingress || []).map((r, i) => readRule(r, 'ingress', `${where}.spec.ingress[${i}]`)),
		egress: (spec.egress || []).map((r, i) => readRule(r, 'egress', `${where}.spec.egress[${i}]`)),
	};
}

/* ---------------------------------------------------------------------------------------
 * Schema and names
 */

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function labelKeyOk(k) {
	const parts = k.split('/');
	if (parts.length > 2) return false;
	const name = parts[parts.length - 1];
	if (parts.length === 2 && !(parts[0].length <= 253 && SUBDOMAIN.test(parts[0]))) return false;
	return name.length >= 1 && name.length <= 63 && LABEL_VALUE.test(name);
}

function labelsOk(labels, where, errs) {
	for (const [k, v] of Object.entries(labels || {})) {
		if (!labelKeyOk(k)) errs.push(`${where}: bad label key ${k}`);
		if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v))
			errs.push(`${where}: bad label value ${JSON.stringify(v)} for ${k}`);
	}
}

/* Returns { objects, namespaces, policies, errors }. */
function readManifests(text) {
	const errors = [];
	const objects = [];
	const docs = YAML.parseAllDocuments(text, { version: '1.1', prettyErrors: false });
	docs.forEach((d, i) => {
		for (const e of [...d.errors, ...d.warnings]) errors.push(`document ${i + 1}: ${e.message}`);
		const o = d.toJS();
		if (o === null || o === undefined) errors.push(`document ${i + 1} is empty`);
		else objects.push(o);
	});
	const namespaces = new Map();
	const policies = [];
	const seen = new Set();
	objects.forEach((o, i) => {
		const where = `${o.kind || '?'} ${(o.metadata && o.metadata.name) || `#${i + 1}`}`;
		try {
			strict(o, 'object', where);
			strict(o.metadata, 'metadata', `${where}.metadata`);
			if (o.kind === 'Namespace' && o.apiVersion === 'v1') {
				new Namespace(o).validate();
				if (typeof o.metadata.name !== 'string' || o.metadata.name.length > 63 || !LABEL.test(o.metadata.name))
					errors.push(`${where}: not a DNS-1123 label`);
				if (o.spec !== undefined) errors.push(`${where}: a spec`);
				namespaces.set(o.metadata.name, { ...(o.metadata.labels || {}) });
			} else if (o.kind === 'NetworkPolicy' && o.apiVersion === 'networking.k8s.io/v1') {
				new NetworkPolicy(o).validate();
				if (typeof o.metadata.name !== 'string' || o.metadata.name.length > 253 || !SUBDOMAIN.test(o.metadata.name))
					errors.push(`${where}: not a DNS-1123 subdomain`);
				const ns = o.metadata.namespace;
				if (typeof ns !== 'string' || !LABEL.test(ns)) errors.push(`${where}: bad namespace ${JSON.stringify(ns)}`);
				policies.push(readPolicy(o, where));
			} else {
				errors.push(`${where}: unexpected ${o.apiVersion} ${o.kind}`);
			}
			labelsOk(o.metadata.labels, where, errors);
			const key = `${o.kind}/${o.metadata.namespace || ''}/${o.metadata.name}`;
			if (seen.has(key)) errors.push(`${where}: two objects called ${key}`);
			seen.add(key);
		} catch (e) {
			errors.push(`${where}: ${e.message}`);
		}
	});
	for (const p of policies)
		if (!namespaces.has(p.ns) && p.ns !== 'default') errors.push(`NetworkPolicy ${p.name}: namespace ${p.ns} is not created`);
	return { objects, namespaces, policies, errors };
}

/* ---------------------------------------------------------------------------------------
 * The evaluator: NetworkPolicy semantics over a model cluster
 *
 * A pod selected by a policy of its namespace with policyType Ingress (Egress) accepts (opens)
 * only connections some rule of such a policy allows: the union; a pod no such policy selects
 * is not restricted in that direction.  A connection passes when the source's egress and the
 * destination's ingress both allow it.  A rule without peers matches every peer, without
 * ports every port and protocol; a peer with a namespaceSelector and a podSelector needs
 * both, with only a podSelector means the policy's own namespace, with an ipBlock matches the
 * addresses inside cidr and outside every except entry.
 */

function selects(sel, labels) {
	return Object.entries(sel).every(([k, v]) => labels[k] === v);
}

function nsLabels(cluster, ns) {
	/* Kubernetes labels every namespace with its name (1.22+). */
	return { ...(cluster.nsLabels.get(ns) || {}), 'kubernetes.io/metadata.name': ns };
}

function peerMatches(cluster, peer, policyNs, ep, fam) {
	if (peer.ipBlock) {
		if (ep.pod && cluster.model === 'outside') return false;
		const a = ep.addr[fam];
		return inCidr(a, peer.ipBlock.cidr) && !peer.ipBlock.except.some((e) => inCidr(a, e));
	}
	if (!ep.pod) return false;
	const nsOk = peer.namespaces ? selects(peer.namespaces, nsLabels(cluster, ep.ns)) : ep.ns === policyNs;
	return nsOk && (!peer.pods || selects(peer.pods, ep.labels));
}

function portsMatch(ports, proto, port) {
	if (!ports) return true;
	return ports.some((p) => p.proto === proto && (p.lo === undefined || (port !== null && port >= p.lo && port <= p.hi)));
}

/* May ep (as the pod at its end) take part in this connection, in direction dir? */
function sideAllows(cluster, dir, ep, other, proto, port, fam) {
	if (!ep.pod) return true;
	const type = dir === 'egress' ? 'Egress' : 'Ingress';
	const pols = cluster.policies.filter((p) => p.ns === ep.ns && selects(p.pods, ep.labels) && p.types.includes(type));
	if (!pols.length) return true;
	return pols.some((p) =>
		p[dir].some(
			(r) => (!r.peers || r.peers.some((peer) => peerMatches(cluster, peer, p.ns, other, fam))) && portsMatch(r.ports, proto, port)
		)
	);
}

function allowed(cluster, src, dst, proto, port, fam) {
	return sideAllows(cluster, 'egress', src, dst, proto, port, fam) && sideAllows(cluster, 'ingress', dst, src, proto, port, fam);
}

/* Where a verdict can change: the edges of every port range in the policies. */
function portEdges(policies) {
	const edges = new Set([1, 65536]);
	for (const p of policies)
		for (const r of [...p.ingress, ...p.egress])
			for (const q of r.ports || [])
				if (q.lo !== undefined) {
					edges.add(q.lo);
					edges.add(q.hi + 1);
				}
	return [...edges].sort((a, b) => a - b);
}

/* {tcp: [[lo, hi]...], udp: [...], other: bool}; IPv4 and IPv6 must agree. */
function cell(cluster, src, dst) {
	const out = {};
	for (const [key, proto] of [['tcp', 'TCP'], ['udp', 'UDP']]) {
		const ranges = [];
		for (let k = 0; k + 1 < cluster.edges.length; k++) {
			const port = cluster.edges[k];
			const v4 = allowed(cluster, src, dst, proto, port, 4);
			if (v4 !== allowed(cluster, src, dst, proto, port, 6))
				throw new Error(`${src.name} -> ${dst.name} ${key}/${port}: IPv4 and IPv6 differ`);
			if (!v4) continue;
			const hi = cluster.edges[k + 1] - 1;
			if (ranges.length && ranges[ranges.length - 1][1] === port - 1) ranges[ranges.length - 1][1] = hi;
			else ranges.push([port, hi]);
		}
		out[key] = ranges;
	}
	out.other = allowed(cluster, src, dst, 'ICMP', null, 4);
	if (out.other !== allowed(cluster, src, dst, 'ICMP', null, 6))
		throw new Error(`${src.name} -> ${dst.name} ICMP: IPv4 and IPv6 differ`);
	return out;
}

/* The tier name in Kubernetes, as README "More than one host" documents it. */
function k8sName(tier) {
	return tier.toLowerCase().replace(/_/g, '-');
}

function addrPair(n) {
	return {
		4: parseAddr(`10.244.${n >> 8}.${n & 255}`),
		6: parseAddr(`fd00:10:244::${n.toString(16)}`),
	};
}

/* The model cluster: two pods per tier, the DNS pods, pods in no tier, the world. */
function buildCluster(opts, tiers, manifests, model) {
	const pods = new Map();
	tiers.forEach((t, i) => {
		const m = k8sName(t);
		const ns = opts.mode === 'labels' ? opts.namespace || 'default' : opts.namespace ? `${opts.namespace}-${m}` : m;
		const labels = opts.mode === 'labels' ? { tier: m, app: 'x' } : { app: 'x' };
		for (const k of [1, 2])
			pods.set(`${t}#${k}`, { name: `${t}#${k}`, pod: true, ns, labels, addr: addrPair(16 + 2 * i + k) });
	});
	const dns = { name: 'kube-dns', pod: true, ns: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, addr: addrPair(0xfa0a) };
	const outsiders = [{ name: 'elsewhere/app', pod: true, ns: 'elsewhere', labels: { app: 'x' }, addr: addrPair(0xfb01) }];
	if (opts.mode === 'labels')
		outsiders.push({ name: 'unlabelled', pod: true, ns: opts.namespace || 'default', labels: { app: 'x' }, addr: addrPair(0xfb02) });
	const world = { name: 'world', pod: false, addr: { 4: parseAddr('203.0.113.7'), 6: parseAddr('2001:db8::7') } };
	return {
		model,
		pods,
		dns,
		outsiders,
		world,
		nsLabels: manifests.namespaces,
		policies: manifests.policies,
		edges: portEdges(manifests.policies),
	};
}

function rangesText(r) {
	return r.length ? r.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',') : '-';
}

function cellText(c) {
	return `tcp ${rangesText(c.tcp)} udp ${rangesText(c.udp)} other ${c.other ? 'yes' : 'no'}`;
}

/* Every pair of tiers and the world: Kubernetes' cell against tiernet's. */
function compare(cluster, tiers, matrix) {
	const ends = [...tiers, 'world'];
	const diffs = [];
	for (const s of ends)
		for (const d of ends) {
			if (s === 'world' && d === 'world') continue;
			const src = s === 'world' ? cluster.world : cluster.pods.get(`${s}#1`);
			const dst = d === 'world' ? cluster.world : cluster.pods.get(`${d}#${s === d ? 2 : 1}`);
			const k = cell(cluster, src, dst);
			const t = matrix.matrix[s][d];
			if (JSON.stringify(k) !== JSON.stringify(t)) diffs.push({ s, d, k, t });
		}
	return diffs;
}

function contains(outer, inner) {
	const has = (rs, [a, b]) => rs.some(([x, y]) => x <= a && b <= y);
	return inner.tcp.every((r) => has(outer.tcp, r)) && inner.udp.every((r) => has(outer.udp, r)) && (outer.other || !inner.other);
}

/* ---------------------------------------------------------------------------------------
 * One golden case
 */

function parseOpts(words) {
	const o = { mode: 'namespaces', namespace: null, cidrs: [], args: words };
	for (let i = 0; i < words.length; i += 2) {
		if (words[i] === '--mode') o.mode = words[i + 1];
		else if (words[i] === '--namespace') o.namespace = words[i + 1];
		else if (words[i] === '--cluster-cidr') o.cidrs.push(words[i + 1]);
		else throw new Error(`unknown option ${words[i]} in ${listFile}`);
	}
	return o;
}

/* The warnings of the header comment, one per "# - " item, lines joined. */
function headerWarnings(yaml) {
	const out = [];
	let inList = false;
	for (const line of yaml.split('\n')) {
		if (line === '---') break;
		if (line.startsWith('# What NetworkPolicy cannot say')) inList = true;
		else if (inList && line.startsWith('# - ')) out.push(line.slice(4));
		else if (inList && line.startsWith('#   ')) out[out.length - 1] += ` ${line.slice(4)}`;
	}
	return out;
}

function goldenCase(outFile, policy, words) {
	const opts = parseOpts(words);
	const label = `${path.basename(outFile)}`;
	const r = run(tiernet, ['export', 'kubernetes', '--config', policy, ...words]);
	const warnings = r.stderr.split('\n').filter((l) => l);

	check(`${label}: \`tiernet export kubernetes --config ${policy}\` (${words.length / 2} options) prints the golden file`, () => {
		if (r.status !== 0) return [`exit status ${r.status}; options: ${words.join(' ')}`, ...warnings];
		const expected = fs.readFileSync(outFile, 'utf8');
		if (r.stdout === expected) return true;
		const a = r.stdout.split('\n');
		const b = expected.split('\n');
		const i = a.findIndex((l, k) => l !== b[k]);
		return [`first difference at line ${i + 1}:`, `  got:      ${a[i]}`, `  expected: ${b[i]}`];
	});
	check(`${label}: each of the ${warnings.length} warnings on stderr heads the manifests too`, () => {
		const errs = [];
		const inHeader = headerWarnings(r.stdout);
		for (const w of warnings) {
			if (!w.startsWith('tiernet: warning: ')) errs.push(`not a warning: ${w}`);
			else if (!inHeader.includes(w.slice(18))) errs.push(`not in the header: ${w}`);
		}
		if (inHeader.length !== warnings.length) errs.push(`${inHeader.length} in the header, ${warnings.length} on stderr`);
		return errs.length ? errs : true;
	});

	let manifests;
	check(`${label}: valid Kubernetes objects (API schema of kubernetes-models, names, labels, fields)`, () => {
		manifests = readManifests(r.stdout);
		const nns = manifests.objects.filter((o) => o.kind === 'Namespace').length;
		if (manifests.errors.length) return manifests.errors.slice(0, 20);
		console.log(`# ${label}: ${manifests.policies.length} NetworkPolicies, ${nns} Namespaces`);
		return true;
	});
	if (!manifests || manifests.errors.length) return;

	const m = run(matrixTool, [policy]);
	let matrix;
	check(`${label}: build/k8s-matrix reads the matrix out of the compiled rules`, () => {
		if (m.status !== 0) return [`exit status ${m.status}`, m.stderr];
		matrix = JSON.parse(m.stdout);
		return true;
	});
	if (!matrix) return;
	const tiers = matrix.tiers;
	const pairs = (tiers.length + 1) ** 2 - 1;

	for (const model of ['outside', 'pods']) {
		const cluster = buildCluster(opts, tiers, manifests, model);
		const what =
			model === 'outside' ? 'ipBlocks match outside addresses only (Cilium)' : 'ipBlocks match pod addresses too (Calico)';
		if (model === 'pods' && !opts.cidrs.length) {
			check(`${label}: ${what}, no --cluster-cidr: NetworkPolicy only allows more than tiernet (the documented gap)`, () => {
				const diffs = compare(cluster, tiers, matrix);
				const worse = diffs.filter((x) => !contains(x.k, x.t));
				if (worse.length) return worse.map((x) => `${x.s} -> ${x.d}: kubernetes ${cellText(x.k)}, tiernet ${cellText(x.t)}`);
				if (!diffs.length) return ['no difference: is the gap still documented rightly?'];
				for (const x of diffs) console.log(`# gap: ${x.s} -> ${x.d}: kubernetes ${cellText(x.k)}, tiernet ${cellText(x.t)}`);
				return true;
			});
			continue;
		}
		check(`${label}: ${what}: the same matrix as tiernet's rules, ${pairs} pairs x (tcp, udp: ports 1-65535; icmp)`, () => {
			const diffs = compare(cluster, tiers, matrix);
			return diffs.length ? diffs.map((x) => `${x.s} -> ${x.d}: kubernetes ${cellText(x.k)}, tiernet ${cellText(x.t)}`) : true;
		});
		check(`${label}: ${what}: every tier reaches the cluster DNS on udp/53 and tcp/53${opts.cidrs.length || model === 'outside' ? ' only' : ''}`, () => {
			const errs = [];
			for (const t of tiers) {
				const c = cell(cluster, cluster.pods.get(`${t}#1`), cluster.dns);
				if (!c.udp.some(([a, b]) => a <= 53 && 53 <= b) || !c.tcp.some(([a, b]) => a <= 53 && 53 <= b))
					errs.push(`${t} -> kube-dns: ${cellText(c)}`);
				else if ((opts.cidrs.length || model === 'outside') && rangesText(c.tcp) + rangesText(c.udp) !== '5353')
					errs.push(`${t} -> kube-dns: ${cellText(c)}, more than port 53`);
			}
			return errs.length ? errs : true;
		});
		check(`${label}: ${what}: pods in no tier and the tiers never reach each other`, () => {
			const errs = [];
			for (const o of cluster.outsiders)
				for (const t of tiers) {
					const p = cluster.pods.get(`${t}#1`);
					for (const [a, b] of [[o, p], [p, o]]) {
						const c = cell(cluster, a, b);
						if (c.tcp.length || c.udp.length || c.other) errs.push(`${a.name} -> ${b.name}: ${cellText(c)}`);
					}
				}
			return errs.length ? errs : true;
		});
	}

	check(`${label}: what tiernet allows to and from the host, which NetworkPolicy cannot say, is in the warnings`, () => {
		const errs = [];
		const text = warnings.join('\n');
		for (const t of tiers) {
			const toHost = matrix.matrix[t].host;
			if ((toHost.tcp.length || toHost.udp.length || toHost.other) && !new RegExp(`allow ${t} -> host`).test(text))
				errs.push(`tiernet: ${t} -> host ${cellText(toHost)}; no warning names it`);
			else if (toHost.tcp.length || toHost.udp.length || toHost.other)
				console.log(`# gap: ${t} -> host: tiernet ${cellText(toHost)}, kubernetes: no rule (warned)`);
			if (matrix.matrix.host[t].other && !/the host may always open connections/.test(text))
				errs.push(`tiernet: host -> ${t} allowed; no warning says so`);
		}
		return errs.length ? errs : true;
	});
}

/* ---------------------------------------------------------------------------------------
 * The command line
 */

function commandLine() {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tiernet-export-'));
	const bad = path.join(tmp, 'bad.conf');
	fs.writeFileSync(bad, 'tier front\nallow front -> nowhere\n', { mode: 0o644 });
	const refusals = [
		[[], /export needs a target: tiernet export kubernetes/],
		[['swarm'], /cannot export to "swarm": the only target is kubernetes/],
		[['kubernetes', '--mode', 'bogus'], /--mode "bogus" is not one of namespaces, labels/],
		[['kubernetes', '--cluster-cidr', '10.0.0.1/8'], /--cluster-cidr "10.0.0.1\/8" has bits set after the prefix: did you mean 10.0.0.0\/8\?/],
		[['kubernetes', '--cluster-cidr', 'pods'], /--cluster-cidr "pods" is not an address range/],
		[['kubernetes', '--namespace', 'Shop'], /--namespace "Shop" is not a Kubernetes namespace name/],
		[['kubernetes', '--bogus'], /unrecognized option '--bogus'/],
		[['kubernetes', 'extra'], /unexpected argument "extra"/],
		[['kubernetes', '--config', bad], new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:16: error: unknown tier "nowhere"`)],
		[['kubernetes', '--config', path.join(tmp, 'missing.conf')], /missing\.conf/],
	];
	for (const [args, re] of refusals)
		check(`tiernet export ${args.join(' ')}: exit status 2 and the reason, no manifests`, () => {
			const r = run(tiernet, ['export', ...args]);
			const errs = [];
			if (r.status !== 2) errs.push(`exit status ${r.status}`);
			if (!re.test(r.stderr)) errs.push(`stderr lacks ${re}: ${r.stderr.split('\n')[0]}`);
			if (r.stdout.includes('apiVersion')) errs.push('manifests on stdout');
			return errs.length ? errs : true;
		});
	for (const args of [['export', '--help'], ['export', 'kubernetes', '--help'], ['help', 'export']])
		check(`tiernet ${args.join(' ')}: the usage on stdout, exit status 0`, () => {
			const r = run(tiernet, args);
			return r.status === 0 && /usage: tiernet export kubernetes/.test(r.stdout) ? true : [`exit ${r.status}`, r.stderr];
		});
	check('TIERNET_CONFIG names the policy file, as for tiernet check', () => {
		const r = run(tiernet, ['export', 'kubernetes'], { env: { ...process.env, TIERNET_CONFIG: 'tests/golden/host.conf' } });
		return r.status === 0 && r.stdout.includes('tiernet policy tests/golden/host.conf') ? true : [`exit ${r.status}`, r.stderr];
	});
	check('without --config: /etc/tiernet/tiernet.conf, or the embedded default policy when it does not exist', () => {
		const env = { ...process.env };
		delete env.TIERNET_CONFIG;
		const r = run(tiernet, ['export', 'kubernetes'], { env });
		if (r.status !== 0) return [`exit ${r.status}`, r.stderr];
		if (fs.existsSync('/etc/tiernet/tiernet.conf')) return r.stdout.includes('policy /etc/tiernet/tiernet.conf') || 'no header';
		const viaFile = run(tiernet, ['export', 'kubernetes', '--config', 'tests/golden/default.conf']);
		const body = (s) => s.slice(s.indexOf('\n---\n'));
		if (!r.stdout.includes('the embedded default policy')) return ['the header does not say the embedded default policy was used'];
		return body(r.stdout) === body(viaFile.stdout) || 'differs from the export of tests/golden/default.conf';
	});
	if (process.getuid && process.getuid() === 0 && fs.existsSync('/usr/bin/setpriv'))
		check('an unprivileged user runs it (uid 65534): no root, no daemon', () => {
			const r = run('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', tiernet, 'export', 'kubernetes', '--config', 'tests/golden/default.conf']);
			return r.status === 0 && r.stdout.includes('kind: NetworkPolicy') ? true : [`exit ${r.status}`, r.stderr];
		});
	check('the same input gives the same output', () => {
		const a = run(tiernet, ['export', 'kubernetes', '--config', 'tests/golden/ports.conf', '--mode', 'labels']);
		const b = run(tiernet, ['export', 'kubernetes', '--config', 'tests/golden/ports.conf', '--mode', 'labels']);
		return (a.status === 0 && a.stdout === b.stdout && a.stderr === b.stderr) || 'differs';
	});
	fs.rmSync(tmp, { recursive: true, force: true });
}

/* ---------------------------------------------------------------------------------------
 * main
 */

const cases = fs
	.readFileSync(listFile, 'utf8')
	.split('\n')
	.filter((l) => l.trim() && !l.startsWith('#'))
	.map((l) => l.trim().split(/\s+/));
for (const [outFile, policy, ...words] of cases) goldenCase(outFile, policy, words);
commandLine();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
