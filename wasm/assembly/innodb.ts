// The legacy InnoDB page checksums (innodb_checksum_algorithm=innodb): ut_fold_binary over parts
// of the page. InnoDB computes in ulint (64-bit), but every step (xor, shift left, add) keeps the
// low 32 bits a function of the low 32 bits, and the result is masked to 32 bits, so u32 is exact.

const MASK: u32 = 1463735687;
const MASK2: u32 = 1653893711;

function foldPair(n1: u32, n2: u32): u32 {
  return ((((n1 ^ n2 ^ MASK2) << 8) + n1) ^ MASK) + n2;
}

/** ut_fold_binary over [p, p+len), 8 bytes per load. */
function foldBinary(p: usize, len: usize): u32 {
  let fold: u32 = 0;
  const end8 = p + (len & ~7);
  while (p < end8) {
    const w = load<u64>(p);
    fold = foldPair(fold, <u32> (w & 0xff));
    fold = foldPair(fold, <u32> ((w >>> 8) & 0xff));
    fold = foldPair(fold, <u32> ((w >>> 16) & 0xff));
    fold = foldPair(fold, <u32> ((w >>> 24) & 0xff));
    fold = foldPair(fold, <u32> ((w >>> 32) & 0xff));
    fold = foldPair(fold, <u32> ((w >>> 40) & 0xff));
    fold = foldPair(fold, <u32> ((w >>> 48) & 0xff));
    fold = foldPair(fold, <u32> (w >>> 56));
    p += 8;
  }
  const end = p + (len & 7);
  while (p < end) {
    fold = foldPair(fold, <u32> load<u8>(p));
    p++;
  }
  return fold;
}

/** buf_calc_page_new_checksum: fold of bytes [4,26) plus fold of [38, pageSize-8). */
export function innodbPageChecksumNew(ptr: usize, pageSize: usize): u32 {
  return foldBinary(ptr + 4, 22) + foldBinary(ptr + 38, pageSize - 46);
}

/** buf_calc_page_old_checksum: fold of bytes [0,26). */
export function innodbPageChecksumOld(ptr: usize): u32 {
  return foldBinary(ptr, 26);
}
