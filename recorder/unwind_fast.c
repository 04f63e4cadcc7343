// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The unwinder's fast path (see unwind_fast.h).
 *
 * libdwfl's walk costs 6-10 us for a 10-frame C stack: every frame
 * re-reads its FDE, runs the CFA program and recovers all 17 registers,
 * through callbacks and allocations.  A traced process that makes bpf FDs
 * in a loop makes the same few stacks over and over, faster than that.  At
 * a call site the rules that matter are almost always the plain ones: the
 * CFA is rsp or rbp plus a constant, the return address and the saved rbp
 * are at constant offsets from the CFA.  Those three numbers are cached per
 * PC (from libdw's own CFI lookup, so they are the rules libdwfl would use:
 * .eh_frame first, then .debug_frame) and the walk is a few loads a frame.
 *
 * Any frame that needs more (a CFA or register expression, a signal frame,
 * a PC without CFI, where libdwfl would follow frame pointers, or without
 * a module, or a word off the copy) sends the whole stack to libdwfl, so
 * the fast path only ever agrees with it; BPFLEAK_UNWIND_VERIFY=1 makes
 * unwind.c check that on every stack (tests/kernel/test_unwind does).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "unwind_fast.h"

#define RBP 6
#define RSP 7
#define RIP 16
/* Rules cached per process; a full table starts over. */
#define CACHE_SLOTS 1024

enum { R_EMPTY = 0, R_SIMPLE, R_COMPLEX };
enum { BP_SAME = 0, BP_AT, BP_UNDEF };

struct cfi_rule {
	uint64_t pc;            /* as looked up: the PC, or a return address - 1 */
	uint8_t state;          /* R_* */
	uint8_t cfa_reg;        /* RSP or RBP */
	uint8_t ra_end;         /* "no caller": the outermost frame */
	uint8_t bp;             /* BP_*: where the caller's rbp is */
	uint8_t has_slots;      /* some register is saved in the frame */
	int32_t cfa_off, ra_off, bp_off;
	int32_t slot_lo, slot_hi;   /* CFA offsets of the lowest and highest saved register */
};

struct cfi_cache {
	struct cfi_rule slot[CACHE_SLOTS];
	size_t used;
};

struct cfi_cache *cfi_cache_new(void)
{
	return calloc(1, sizeof(struct cfi_cache));
}

void cfi_cache_free(struct cfi_cache *c)
{
	free(c);
}

void cfi_cache_clear(struct cfi_cache *c)
{
	if (c) {
		memset(c->slot, 0, sizeof(c->slot));
		c->used = 0;
	}
}

static bool fits_i32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* A register's location as libdw gives it: CFA + off, as a memory location. */
static bool at_cfa(const Dwarf_Op *ops, size_t n, int32_t *off)
{
	if (n < 1 || n > 2 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	int64_t v = 0;
	if (n == 2) {
		if (ops[1].atom != DW_OP_plus_uconst)
			return false;   /* DW_OP_stack_value: a value rule, not a slot */
		v = (int64_t)ops[1].number;
	}
	if (!fits_i32(v))
		return false;
	*off = (int32_t)v;
	return true;
}

/* One register's rule, as far as the fast path goes; false: libdwfl's walk. */
static bool reg_rule(Dwarf_Frame *f, int regno, struct cfi_rule *r)
{
	Dwarf_Op mem[3], *ops;
	size_t n;
	int32_t off;
	if (dwarf_frame_register(f, regno, mem, &ops, &n) != 0)
		return false;
	if (n == 0) {
		bool undefined = ops != NULL;   /* else "same value" */
		if (regno == RIP) {
			/* Undefined: the outermost frame (_start, a thread's start). */
			r->ra_end = undefined;
			return undefined;
		}
		if (regno == RBP)
			r->bp = undefined ? BP_UNDEF : BP_SAME;
		return regno != RSP;
	}
	if (regno == RSP)   /* the ABI's rule: the caller's rsp is the CFA, a value */
		return n == 2 && ops[0].atom == DW_OP_call_frame_cfa &&
		       ops[1].atom == DW_OP_stack_value;
	if (n == 1 && ops[0].atom == DW_OP_regx)
		return regno != RIP && regno != RBP;   /* a copy of another register: no read */
	if (!at_cfa(ops, n, &off))
		return false;
	/* Saved in the frame: libdwfl reads every such slot, and a slot it
	 * cannot read changes how its walk ends; the walk checks them all. */
	if (!r->has_slots || off < r->slot_lo)
		r->slot_lo = off;
	if (!r->has_slots || off > r->slot_hi)
		r->slot_hi = off;
	r->has_slots = 1;
	if (regno == RIP)
		r->ra_off = off;
	else if (regno == RBP) {
		r->bp = BP_AT;
		r->bp_off = off;
	}
	return true;
}

/* R_EMPTY: no FDE covers rel; R_SIMPLE: *r filled; R_COMPLEX: libdwfl's walk. */
static int from_cfi(Dwarf_CFI *cfi, Dwarf_Addr rel, struct cfi_rule *r)
{
	Dwarf_Frame *f;
	if (dwarf_cfi_addrframe(cfi, rel, &f) != 0)
		return R_EMPTY;
	int st = R_COMPLEX;
	bool signal = false;
	Dwarf_Op *ops;
	size_t n;
	if (dwarf_frame_info(f, NULL, NULL, &signal) != RIP || signal)
		goto out;
	if (dwarf_frame_cfa(f, &ops, &n) != 0 || n != 1 || ops[0].atom != DW_OP_bregx ||
	    (ops[0].number != RSP && ops[0].number != RBP) || !fits_i32((int64_t)ops[0].number2))
		goto out;
	r->cfa_reg = (uint8_t)ops[0].number;
	r->cfa_off = (int32_t)(int64_t)ops[0].number2;
	/* Every register libdwfl recovers (x86-64: 0..16), not only the three
	 * the walk needs: their rules decide what it reads. */
	for (int regno = 0; regno <= RIP; regno++)
		if (!reg_rule(f, regno, r))
			goto out;
	st = R_SIMPLE;
out:
	free(f);
	return st;
}

static size_t slot_of(uint64_t pc)
{
	pc ^= pc >> 17;
	pc *= 0x9e3779b97f4a7c15ull;
	return (size_t)(pc >> 40) & (CACHE_SLOTS - 1);
}

/* The simple rule at pc, or NULL when that frame needs libdwfl. */
static const struct cfi_rule *rule_at(Dwfl *dwfl, struct cfi_cache *c, uint64_t pc)
{
	size_t k = slot_of(pc);
	while (c->slot[k].state != R_EMPTY) {
		if (c->slot[k].pc == pc)
			return c->slot[k].state == R_SIMPLE ? &c->slot[k] : NULL;
		k = (k + 1) & (CACHE_SLOTS - 1);
	}
	/* Not cached.  No module: not cached either (it may be mapped later). */
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, pc);
	if (!mod)
		return NULL;
	struct cfi_rule r = { .pc = pc };
	Dwarf_Addr bias;
	int st = R_EMPTY;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(mod, &bias);
	if (cfi)
		st = from_cfi(cfi, pc - bias, &r);
	if (st == R_EMPTY && (cfi = dwfl_module_dwarf_cfi(mod, &bias)) != NULL)
		st = from_cfi(cfi, pc - bias, &r);
	r.state = st == R_SIMPLE ? R_SIMPLE : R_COMPLEX;   /* no CFI: frame pointers, libdwfl's */
	if (4 * (c->used + 1) > 3 * CACHE_SLOTS) {
		cfi_cache_clear(c);
		k = slot_of(pc);
	}
	c->slot[k] = r;
	c->used++;
	return r.state == R_SIMPLE ? &c->slot[k] : NULL;
}

static bool read_word(const unsigned char *stack, size_t len, uint64_t sp0, uint64_t addr,
		      uint64_t *out, size_t *hi)
{
	if (addr < sp0 || len < 8 || addr - sp0 > len - 8)
		return false;
	memcpy(out, stack + (addr - sp0), 8);
	if (addr - sp0 + 8 > *hi)
		*hi = (size_t)(addr - sp0 + 8);
	return true;
}

int fast_unwind(Dwfl *dwfl, struct cfi_cache *c, const struct unwind_regs *regs,
		const unsigned char *stack, size_t len, uint64_t *ips, int max,
		enum unwind_stop *why, size_t *used)
{
	uint64_t pc = regs->ip, sp = regs->sp, bp = regs->bp;
	bool bp_known = true;
	size_t hi = 0;
	int n = 0;

	if (max <= 0 || !dwfl || !c)
		return -1;
	for (;;) {
		/* A zero return address is how some thread entries end (as on_frame). */
		if (n > 0 && pc == 0) {
			*why = UNWIND_STOP_END;
			break;
		}
		ips[n++] = pc;
		if (n == max) {
			*why = UNWIND_STOP_MAX;
			break;
		}
		/* Past the first frame, pc is a return address: its call is before it. */
		const struct cfi_rule *r = rule_at(dwfl, c, n == 1 ? pc : pc - 1);
		if (!r)
			return -1;
		if (r->cfa_reg == RBP && !bp_known)
			return -1;
		uint64_t cfa = (r->cfa_reg == RSP ? sp : bp) + (uint64_t)(int64_t)r->cfa_off;
		uint64_t ra, caller_bp = bp, word;
		/* Every saved register's slot must be in the copy, as libdwfl
		 * reads them all (the highest is also how much stack was used). */
		if (r->has_slots &&
		    (!read_word(stack, len, regs->sp, cfa + (uint64_t)(int64_t)r->slot_lo, &word, &hi) ||
		     !read_word(stack, len, regs->sp, cfa + (uint64_t)(int64_t)r->slot_hi, &word, &hi)))
			return -1;
		if (r->ra_end) {
			*why = UNWIND_STOP_END;
			break;
		}
		if (!read_word(stack, len, regs->sp, cfa + (uint64_t)(int64_t)r->ra_off, &ra, &hi))
			return -1;
		if (r->bp == BP_AT) {
			if (!read_word(stack, len, regs->sp, cfa + (uint64_t)(int64_t)r->bp_off,
				       &caller_bp, &hi))
				return -1;
			bp_known = true;
		} else if (r->bp == BP_UNDEF) {
			bp_known = false;
		}
		/* A caller's frame lies above its callee's: anything else is libdwfl's to judge. */
		if (cfa <= sp)
			return -1;
		sp = cfa;   /* the CFA is the caller's stack pointer (x86-64 ABI) */
		bp = caller_bp;
		pc = ra;
	}
	*used = hi;
	return n;
}
