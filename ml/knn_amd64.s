//go:build !purego

#include "textflag.h"

// func knnCPUID(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·knnCPUID(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func knnXgetbv() (eax, edx uint32)
TEXT ·knnXgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func knnScanAVX2(q, panels, norms *float64, d, np int, thr, out *float64) (p int, mask uint64)
//
// q holds 4 query rows interleaved (q[l*4+i] is query i's feature l);
// panels holds np panels of 8 points interleaved (panel[l*8+j]); norms
// the 8 squared norms per panel. For each panel p it computes, for each
// query i and point j, v = norms[j] - 2·Σ_l q[l*4+i]·panel[l*8+j] (fused
// multiply-adds in l order) and stops at the first panel where some v is
// below thr[i]: it writes the 32 values to out (out[i*8+j]) and returns p
// and a mask with bit i*8+j set for each v < thr[i]. It returns np, 0 when
// no panel has one. d must be at least 1.
TEXT ·knnScanAVX2(SB), NOSPLIT, $0-72
	MOVQ q+0(FP), SI
	MOVQ panels+8(FP), DI
	MOVQ norms+16(FP), R8
	MOVQ d+24(FP), R9
	MOVQ np+32(FP), R10
	MOVQ thr+40(FP), R11
	MOVQ out+48(FP), R12
	XORQ R13, R13
	VBROADCASTSD 0(R11), Y12
	VBROADCASTSD 8(R11), Y13
	VBROADCASTSD 16(R11), Y14
	VBROADCASTSD 24(R11), Y15

panel:
	CMPQ R13, R10
	JGE  none
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ SI, AX
	MOVQ R9, CX

feature:
	VMOVUPD      (DI), Y8
	VMOVUPD      32(DI), Y9
	VBROADCASTSD (AX), Y10
	VFMADD231PD  Y8, Y10, Y0
	VFMADD231PD  Y9, Y10, Y1
	VBROADCASTSD 8(AX), Y11
	VFMADD231PD  Y8, Y11, Y2
	VFMADD231PD  Y9, Y11, Y3
	VBROADCASTSD 16(AX), Y10
	VFMADD231PD  Y8, Y10, Y4
	VFMADD231PD  Y9, Y10, Y5
	VBROADCASTSD 24(AX), Y11
	VFMADD231PD  Y8, Y11, Y6
	VFMADD231PD  Y9, Y11, Y7
	ADDQ $32, AX
	ADDQ $64, DI
	DECQ CX
	JNZ  feature

	// v = norm - 2·acc (doubling is exact)
	VMOVUPD (R8), Y8
	VMOVUPD 32(R8), Y9
	VADDPD  Y0, Y0, Y0
	VADDPD  Y1, Y1, Y1
	VADDPD  Y2, Y2, Y2
	VADDPD  Y3, Y3, Y3
	VADDPD  Y4, Y4, Y4
	VADDPD  Y5, Y5, Y5
	VADDPD  Y6, Y6, Y6
	VADDPD  Y7, Y7, Y7
	VSUBPD  Y0, Y8, Y0
	VSUBPD  Y1, Y9, Y1
	VSUBPD  Y2, Y8, Y2
	VSUBPD  Y3, Y9, Y3
	VSUBPD  Y4, Y8, Y4
	VSUBPD  Y5, Y9, Y5
	VSUBPD  Y6, Y8, Y6
	VSUBPD  Y7, Y9, Y7

	// mask bits: query i, point j at i*8+j
	VCMPPD    $1, Y12, Y0, Y10
	VMOVMSKPD Y10, DX
	VCMPPD    $1, Y12, Y1, Y11
	VMOVMSKPD Y11, BX
	SHLQ      $4, BX
	ORQ       BX, DX
	VCMPPD    $1, Y13, Y2, Y10
	VMOVMSKPD Y10, BX
	SHLQ      $8, BX
	ORQ       BX, DX
	VCMPPD    $1, Y13, Y3, Y11
	VMOVMSKPD Y11, BX
	SHLQ      $12, BX
	ORQ       BX, DX
	VCMPPD    $1, Y14, Y4, Y10
	VMOVMSKPD Y10, BX
	SHLQ      $16, BX
	ORQ       BX, DX
	VCMPPD    $1, Y14, Y5, Y11
	VMOVMSKPD Y11, BX
	SHLQ      $20, BX
	ORQ       BX, DX
	VCMPPD    $1, Y15, Y6, Y10
	VMOVMSKPD Y10, BX
	SHLQ      $24, BX
	ORQ       BX, DX
	VCMPPD    $1, Y15, Y7, Y11
	VMOVMSKPD Y11, BX
	SHLQ      $28, BX
	ORQ       BX, DX
	TESTQ     DX, DX
	JNZ       found
	ADDQ      $64, R8
	INCQ      R13
	JMP       panel

found:
	VMOVUPD Y0, (R12)
	VMOVUPD Y1, 32(R12)
	VMOVUPD Y2, 64(R12)
	VMOVUPD Y3, 96(R12)
	VMOVUPD Y4, 128(R12)
	VMOVUPD Y5, 160(R12)
	VMOVUPD Y6, 192(R12)
	VMOVUPD Y7, 224(R12)
	MOVQ    R13, p+56(FP)
	MOVQ    DX, mask+64(FP)
	VZEROUPPER
	RET

none:
	MOVQ R10, p+56(FP)
	MOVQ $0, mask+64(FP)
	VZEROUPPER
	RET

// func knnMinAVX2(q, panels, norms *float64, d, np int, minv *float64, mini *int64)
//
// knnMinAVX2 computes the values of knnScanAVX2 for all np panels (no
// thresholds) and keeps, for each panel
// p and query i, the smallest value in minv[p*4+i] and the lowest point j
// (0..7) holding it in mini[p*4+i].
TEXT ·knnMinAVX2(SB), NOSPLIT, $0-56
	MOVQ q+0(FP), SI
	MOVQ panels+8(FP), DI
	MOVQ norms+16(FP), R8
	MOVQ d+24(FP), R9
	MOVQ np+32(FP), R10
	MOVQ minv+40(FP), R12
	MOVQ mini+48(FP), R13

mpanel:
	TESTQ R10, R10
	JZ    mdone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ SI, AX
	MOVQ R9, CX

mfeature:
	VMOVUPD      (DI), Y8
	VMOVUPD      32(DI), Y9
	VBROADCASTSD (AX), Y10
	VFMADD231PD  Y8, Y10, Y0
	VFMADD231PD  Y9, Y10, Y1
	VBROADCASTSD 8(AX), Y11
	VFMADD231PD  Y8, Y11, Y2
	VFMADD231PD  Y9, Y11, Y3
	VBROADCASTSD 16(AX), Y10
	VFMADD231PD  Y8, Y10, Y4
	VFMADD231PD  Y9, Y10, Y5
	VBROADCASTSD 24(AX), Y11
	VFMADD231PD  Y8, Y11, Y6
	VFMADD231PD  Y9, Y11, Y7
	ADDQ $32, AX
	ADDQ $64, DI
	DECQ CX
	JNZ  mfeature

	VMOVUPD (R8), Y8
	VMOVUPD 32(R8), Y9
	VADDPD  Y0, Y0, Y0
	VADDPD  Y1, Y1, Y1
	VADDPD  Y2, Y2, Y2
	VADDPD  Y3, Y3, Y3
	VADDPD  Y4, Y4, Y4
	VADDPD  Y5, Y5, Y5
	VADDPD  Y6, Y6, Y6
	VADDPD  Y7, Y7, Y7
	VSUBPD  Y0, Y8, Y0
	VSUBPD  Y1, Y9, Y1
	VSUBPD  Y2, Y8, Y2
	VSUBPD  Y3, Y9, Y3
	VSUBPD  Y4, Y8, Y4
	VSUBPD  Y5, Y9, Y5
	VSUBPD  Y6, Y8, Y6
	VSUBPD  Y7, Y9, Y7

	// query 0: Y0, Y1
	VMINPD       Y1, Y0, Y8
	VEXTRACTF128 $1, Y8, X9
	VMINPD       X9, X8, X9
	VPERMILPD    $1, X9, X10
	VMINPD       X10, X9, X9
	VBROADCASTSD X9, Y9
	VCMPPD       $0, Y9, Y0, Y10
	VMOVMSKPD    Y10, AX
	VCMPPD       $0, Y9, Y1, Y11
	VMOVMSKPD    Y11, BX
	SHLQ         $4, BX
	ORQ          BX, AX
	BSFQ         AX, AX
	VMOVSD       X9, (R12)
	MOVQ         AX, (R13)

	// query 1: Y2, Y3
	VMINPD       Y3, Y2, Y8
	VEXTRACTF128 $1, Y8, X9
	VMINPD       X9, X8, X9
	VPERMILPD    $1, X9, X10
	VMINPD       X10, X9, X9
	VBROADCASTSD X9, Y9
	VCMPPD       $0, Y9, Y2, Y10
	VMOVMSKPD    Y10, AX
	VCMPPD       $0, Y9, Y3, Y11
	VMOVMSKPD    Y11, BX
	SHLQ         $4, BX
	ORQ          BX, AX
	BSFQ         AX, AX
	VMOVSD       X9, 8(R12)
	MOVQ         AX, 8(R13)

	// query 2: Y4, Y5
	VMINPD       Y5, Y4, Y8
	VEXTRACTF128 $1, Y8, X9
	VMINPD       X9, X8, X9
	VPERMILPD    $1, X9, X10
	VMINPD       X10, X9, X9
	VBROADCASTSD X9, Y9
	VCMPPD       $0, Y9, Y4, Y10
	VMOVMSKPD    Y10, AX
	VCMPPD       $0, Y9, Y5, Y11
	VMOVMSKPD    Y11, BX
	SHLQ         $4, BX
	ORQ          BX, AX
	BSFQ         AX, AX
	VMOVSD       X9, 16(R12)
	MOVQ         AX, 16(R13)

	// query 3: Y6, Y7
	VMINPD       Y7, Y6, Y8
	VEXTRACTF128 $1, Y8, X9
	VMINPD       X9, X8, X9
	VPERMILPD    $1, X9, X10
	VMINPD       X10, X9, X9
	VBROADCASTSD X9, Y9
	VCMPPD       $0, Y9, Y6, Y10
	VMOVMSKPD    Y10, AX
	VCMPPD       $0, Y9, Y7, Y11
	VMOVMSKPD    Y11, BX
	SHLQ         $4, BX
	ORQ          BX, AX
	BSFQ         AX, AX
	VMOVSD       X9, 24(R12)
	MOVQ         AX, 24(R13)

	ADDQ $64, R8
	ADDQ $32, R12
	ADDQ $32, R13
	DECQ R10
	JMP  mpanel

mdone:
	VZEROUPPER
	RET
