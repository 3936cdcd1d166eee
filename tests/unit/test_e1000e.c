/*
 * test_e1000e.c - the pure parts of the 82574 driver (drivers/e1000e_regs.h):
 * ring index arithmetic, the station address from RAL/RAH and from NVM
 * words, EERD, IVAR, RCTL and TCTL values, checked against the datasheet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/e1000e_regs.h"

static const uint8_t qemu_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};

static void test_ring_next_prev_wrap(void **state)
{
	assert_int_equal(e1000e_ring_next(0, 256), 1);
	assert_int_equal(e1000e_ring_next(254, 256), 255);
	assert_int_equal(e1000e_ring_next(255, 256), 0);
	assert_int_equal(e1000e_ring_prev(0, 256), 255);
	assert_int_equal(e1000e_ring_prev(1, 256), 0);
	assert_int_equal(e1000e_ring_next(7, 8), 0);
}

static void test_ring_used_and_space(void **state)
{
	/* Empty ring: nothing in flight, all but the one guard slot free. */
	assert_int_equal(e1000e_ring_used(0, 0, 256), 0);
	assert_int_equal(e1000e_ring_space(0, 0, 256), 255);
	assert_int_equal(e1000e_ring_used(100, 100, 256), 0);
	/* Tail ahead of clean. */
	assert_int_equal(e1000e_ring_used(10, 30, 256), 20);
	assert_int_equal(e1000e_ring_space(10, 30, 256), 235);
	/* Tail wrapped behind clean. */
	assert_int_equal(e1000e_ring_used(250, 4, 256), 10);
	assert_int_equal(e1000e_ring_space(250, 4, 256), 245);
	/* Full: tail one behind clean - filling another would make
	 * head == tail, which the device reads as empty (7.2.3). */
	assert_int_equal(e1000e_ring_used(5, 4, 256), 255);
	assert_int_equal(e1000e_ring_space(5, 4, 256), 0);
	assert_int_equal(e1000e_ring_space(0, 255, 256), 0);
}

static void test_ring_size(void **state)
{
	/* RDLEN/TDLEN: multiples of 128 bytes = 8 descriptors. */
	assert_true(e1000e_ring_size_ok(8));
	assert_true(e1000e_ring_size_ok(256));
	assert_true(e1000e_ring_size_ok(4096));
	assert_false(e1000e_ring_size_ok(0));
	assert_false(e1000e_ring_size_ok(12));
	assert_false(e1000e_ring_size_ok(257));
	assert_false(e1000e_ring_size_ok(65536 + 8));
}

static void test_descriptor_layout(void **state)
{
	/* 7.1.4 legacy receive descriptor: status byte 12, errors 13. */
	assert_int_equal(offsetof(struct e1000e_rx_desc, length), 8);
	assert_int_equal(offsetof(struct e1000e_rx_desc, status), 12);
	assert_int_equal(offsetof(struct e1000e_rx_desc, errors), 13);
	/* 7.2.10.1 legacy transmit descriptor: CMD byte 11, STA byte 12. */
	assert_int_equal(offsetof(struct e1000e_tx_desc, length), 8);
	assert_int_equal(offsetof(struct e1000e_tx_desc, cmd), 11);
	assert_int_equal(offsetof(struct e1000e_tx_desc, status), 12);
}

static void test_mac_from_ra(void **state)
{
	uint8_t mac[6];

	/* 52:54:00:12:34:57, low octet first, AV set (as QEMU fills them). */
	assert_true(e1000e_mac_from_ra(0x12005452, 0x80005734, mac));
	assert_memory_equal(mac, qemu_mac, 6);
	/* Not valid without RAH.AV. */
	assert_false(e1000e_mac_from_ra(0x12005452, 0x00005734, mac));
	/* All zeros, or a multicast address: not a station address. */
	assert_false(e1000e_mac_from_ra(0, 0x80000000, mac));
	assert_false(e1000e_mac_from_ra(0x12005453, 0x80005734, mac));
	assert_false(e1000e_mac_from_ra(0xFFFFFFFF, 0x8000FFFF, mac));
}

static void test_mac_to_ra(void **state)
{
	uint32_t ral, rah;
	uint8_t back[6];

	e1000e_mac_to_ra(qemu_mac, &ral, &rah);
	assert_int_equal(ral, 0x12005452);
	assert_int_equal(rah, 0x80005734);
	assert_true(e1000e_mac_from_ra(ral, rah, back));
	assert_memory_equal(back, qemu_mac, 6);
}

static void test_mac_from_eeprom(void **state)
{
	const uint16_t words[3] = {0x5452, 0x1200, 0x5734};
	const uint16_t erased[3] = {0xFFFF, 0xFFFF, 0xFFFF};
	const uint16_t blank[3] = {0, 0, 0};
	uint8_t mac[6];

	assert_true(e1000e_mac_from_eeprom(words, mac));
	assert_memory_equal(mac, qemu_mac, 6);
	assert_false(e1000e_mac_from_eeprom(erased, mac));
	assert_false(e1000e_mac_from_eeprom(blank, mac));
}

static void test_eerd(void **state)
{
	/* 10.2.2.4: START bit 0, address from bit 2, data in 31:16. */
	assert_int_equal(e1000e_eerd_start(0), 0x1);
	assert_int_equal(e1000e_eerd_start(2), 0x9);
	assert_int_equal(e1000e_eerd_start(0x3F), 0xFD);
	uint32_t done = 0x5734u << E1000E_EERD_DATA_SHIFT |
			e1000e_eerd_start(2) | E1000E_EERD_DONE;
	assert_true(done & E1000E_EERD_DONE);
	assert_int_equal((uint16_t)(done >> E1000E_EERD_DATA_SHIFT), 0x5734);
}

static void test_ivar(void **state)
{
	/* 10.2.4.9: RxQ0 in 3:0, TxQ0 in 11:8, other in 19:16, each a
	 * vector in the low three bits and valid in bit 3. */
	assert_int_equal(e1000e_ivar_encode(3), 0x000A0908);
	assert_int_equal(e1000e_ivar_encode(2), 0x00090908);
	assert_int_equal(e1000e_ivar_encode(1), 0x00080808);
	assert_int_equal(e1000e_ivar_encode(0), 0);
	/* Queue 1 entries stay invalid. */
	assert_int_equal(e1000e_ivar_encode(3) & 0x0000F0F0, 0);
}

static void test_rctl(void **state)
{
	/* EN (bit 1) | BAM (bit 15) | SECRC (bit 26), BSIZE 00 = 2048. */
	assert_int_equal(e1000e_rctl_compose(2048), 0x04008002);
	assert_int_equal(e1000e_rctl_compose(1024), 0x04018002);
	assert_int_equal(e1000e_rctl_compose(256), 0x04038002);
	/* BSEX (bit 25) scales BSIZE by 16: 11b = 4096, 01b = 16384. */
	assert_int_equal(e1000e_rctl_compose(4096), 0x06038002);
	assert_int_equal(e1000e_rctl_compose(16384), 0x06018002);
	/* No long frames, no promiscuous modes, legacy descriptors. */
	uint32_t v = e1000e_rctl_compose(2048);
	assert_int_equal(v & (E1000E_RCTL_LPE | E1000E_RCTL_UPE |
			      E1000E_RCTL_MPE | E1000E_RCTL_SBP |
			      E1000E_RCTL_DTYP_MASK), 0);
	assert_int_equal(e1000e_rctl_compose(3000), 0);
	assert_int_equal(e1000e_rctl_compose(0), 0);
}

static void test_tctl(void **state)
{
	/* EN (1) | PSP (3) | CT 0x0F in 11:4 | COLD 0x3F in 21:12 | RTLC (24). */
	assert_int_equal(e1000e_tctl_compose(), 0x0103F0FA);
	/* TIPG for copper: IPGT 8, IPGR1 8 (19:10), IPGR2 6 (29:20). */
	assert_int_equal(E1000E_TIPG_COPPER, 0x00602008);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_next_prev_wrap),
		cmocka_unit_test(test_ring_used_and_space),
		cmocka_unit_test(test_ring_size),
		cmocka_unit_test(test_descriptor_layout),
		cmocka_unit_test(test_mac_from_ra),
		cmocka_unit_test(test_mac_to_ra),
		cmocka_unit_test(test_mac_from_eeprom),
		cmocka_unit_test(test_eerd),
		cmocka_unit_test(test_ivar),
		cmocka_unit_test(test_rctl),
		cmocka_unit_test(test_tctl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
