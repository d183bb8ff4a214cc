# SPDX-License-Identifier: GPL-2.0
#
# Markdown table rows from "CONFIG ROUND V1 V2 ..." lines: per configuration
# (in the order given by -v order="a b c") the median and [min-max] of each
# column named in -v cols="3 4 ..." (awk field numbers).
function isort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
function median(a, n) {
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ lines[NR] = $0 }
END {
	nc = split(cols, col, " ")
	no = split(order, cfg, " ")
	for (o = 1; o <= no; o++) {
		row = "| " cfg[o] " |"
		for (k = 1; k <= nc; k++) {
			n = 0
			split("", v)
			for (l = 1; l <= NR; l++) {
				split(lines[l], f, " ")
				if (f[1] == cfg[o])
					v[++n] = f[col[k]] + 0
			}
			if (!n) {
				row = row " - |"
				continue
			}
			isort(v, n)
			row = row sprintf(" %g [%g-%g] |", median(v, n), v[1], v[n])
		}
		print row
	}
}
