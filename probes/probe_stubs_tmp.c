// SPDX-License-Identifier: MIT
#include "probes/probe_int.h"
int probe_tcp_start(struct probe_ctx *c) { (void)c; return 0; }
void probe_tcp_finish(struct probe_ctx *c) { (void)c; }
int probe_ttl_start(struct probe_ctx *c) { (void)c; return 0; }
void probe_ttl_finish(struct probe_ctx *c) { (void)c; }
int probe_pm_start(struct probe_ctx *c) { (void)c; return 0; }
void probe_pm_finish(struct probe_ctx *c) { (void)c; }
int probe_pcap_start(struct probe_ctx *c) { (void)c; return 0; }
void probe_pcap_server_alt(struct probe_ctx *c, uint32_t alt_ip) { (void)c; (void)alt_ip; }
void probe_pcap_finish(struct probe_ctx *c) { (void)c; }
int probe_pcap_syn_seq(const struct probe_ctx *c, uint16_t sport, uint32_t *seq) { (void)c; (void)sport; (void)seq; return -2; }
