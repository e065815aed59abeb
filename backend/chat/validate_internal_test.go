package chat

import "testing"

// TestDefaultIgnorableMatchesTheUCD pins isDefaultIgnorable, derived from the
// unicode package's tables, to the Default_Ignorable_Code_Point ranges
// published in DerivedCoreProperties.txt, over every code point.
func TestDefaultIgnorableMatchesTheUCD(t *testing.T) {
	published := [][2]rune{
		{0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x061C, 0x061C}, {0x115F, 0x1160},
		{0x17B4, 0x17B5}, {0x180B, 0x180F}, {0x200B, 0x200F}, {0x202A, 0x202E},
		{0x2060, 0x206F}, {0x3164, 0x3164}, {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF},
		{0xFFA0, 0xFFA0}, {0xFFF0, 0xFFF8}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
		{0xE0000, 0xE0FFF},
	}
	want := func(r rune) bool {
		for _, rg := range published {
			if r >= rg[0] && r <= rg[1] {
				return true
			}
		}
		return false
	}
	n := 0
	for r := rune(0); r <= 0x10FFFF; r++ {
		got := isDefaultIgnorable(r)
		if got != want(r) {
			t.Errorf("U+%04X: isDefaultIgnorable = %v", r, got)
		}
		if got {
			n++
		}
	}
	if n != 4174 { // the total the file states
		t.Errorf("%d default-ignorable code points, want 4174", n)
	}
}
