//! An object's BTF made acceptable to BPF_BTF_LOAD.
//!
//! In: an object's [`Btf`] (DATASECs already fixed). Out: a copy whose
//! extern declarations pass the kernel's BTF checks. The kernel accepts
//! neither FUNCs with extern linkage nor VARs with extern linkage or void
//! type (kernel/bpf/btf.c, `btf_func_check_meta` and `btf_var_check_meta`),
//! which is how clang describes `__ksym` and `__kconfig` externs. As libbpf
//! does, each extern variable becomes an allocated `int` variable, each
//! extern function a static one whose DATASEC slot holds a dummy `int`
//! variable; the extern sections get 4 bytes per entry. A static FUNC is
//! checked like a definition ("Invalid arg#1" in `btf_func_check`), so the
//! unnamed parameters clang gives kfunc prototypes borrow the function's
//! name. Type ids do not change (one VAR may be appended), so map and
//! func_info ids stay valid.

use super::{
    Btf, BtfError, FuncLinkage, Int, IntEncoding, Name, Type, TypeId, Var, VarLinkage, VarSecinfo,
};

impl Btf {
    /// A copy of this BTF that the kernel will load. See the module docs.
    pub fn sanitized_for_kernel(&self) -> Result<Btf, BtfError> {
        let mut btf = self.clone();
        let extern_secs: Vec<TypeId> = btf
            .iter()
            .filter(|(_, t)| matches!(t, Type::Datasec(d) if matches!(btf.name(d.name), ".kconfig" | ".ksyms")))
            .map(|(id, _)| id)
            .collect();
        if extern_secs.is_empty() {
            return Ok(btf);
        }
        let int_id = btf.find_or_add_int();
        let mut dummy_var: Option<TypeId> = None;
        for sec in extern_secs {
            let Type::Datasec(d) = btf.type_by_id(sec)?.clone() else {
                continue;
            };
            let mut vars = Vec::with_capacity(d.vars.len());
            for (i, v) in d.vars.iter().enumerate() {
                let mut ty = v.ty;
                match btf.type_by_id(v.ty)?.clone() {
                    Type::Func(mut f) => {
                        f.linkage = FuncLinkage::Static;
                        btf.set_type(v.ty, Type::Func(f));
                        btf.name_anon_params(f.proto, f.name)?;
                        let dummy = match dummy_var {
                            Some(d) => d,
                            None => {
                                let d = btf.push_type(Type::Var(Var {
                                    name: f.name,
                                    ty: int_id,
                                    linkage: VarLinkage::Global,
                                }));
                                dummy_var = Some(d);
                                d
                            }
                        };
                        ty = dummy;
                    }
                    Type::Var(mut var) => {
                        var.linkage = VarLinkage::Global;
                        var.ty = int_id;
                        btf.set_type(v.ty, Type::Var(var));
                    }
                    _ => {}
                }
                vars.push(VarSecinfo {
                    ty,
                    offset: 4 * i as u32,
                    byte_size: 4,
                });
            }
            let size = 4 * vars.len() as u32;
            btf.fix_datasec(sec, size, vars);
        }
        Ok(btf)
    }

    /// Gives the global FUNCs named in `names` static linkage. libbpf does
    /// this for global functions with hidden visibility (`__hidden`): the
    /// verifier then checks them in their callers' context instead of on
    /// their own, where a pointer argument could be NULL.
    pub fn mark_funcs_static(&mut self, names: &[&str]) {
        if names.is_empty() {
            return;
        }
        let found: Vec<(TypeId, Type)> = self
            .iter()
            .filter_map(|(id, t)| match t {
                Type::Func(f)
                    if f.linkage == FuncLinkage::Global && names.contains(&self.name(f.name)) =>
                {
                    let mut f = *f;
                    f.linkage = FuncLinkage::Static;
                    Some((id, Type::Func(f)))
                }
                _ => None,
            })
            .collect();
        for (id, t) in found {
            self.set_type(id, t);
        }
    }

    /// Gives every unnamed (non-variadic) parameter of prototype `proto` the name `name`.
    fn name_anon_params(&mut self, proto: TypeId, name: Name) -> Result<(), BtfError> {
        if let Type::FuncProto(p) = self.type_by_id(proto)? {
            if p.params.iter().any(|a| a.name.is_anon() && !a.ty.is_void()) {
                let mut p = p.clone();
                let mut params = p.params.to_vec();
                for a in params
                    .iter_mut()
                    .filter(|a| a.name.is_anon() && !a.ty.is_void())
                {
                    a.name = name;
                }
                p.params = params.into();
                self.set_type(proto, Type::FuncProto(p));
            }
        }
        Ok(())
    }

    /// A 4-byte signed INT, added when the BTF has none.
    fn find_or_add_int(&mut self) -> TypeId {
        let found = self
            .iter()
            .find(|(_, t)| matches!(t, Type::Int(i) if i.byte_size == 4 && i.bits == 32 && i.bit_offset == 0 && !i.encoding.bool))
            .map(|(id, _)| id);
        found.unwrap_or_else(|| {
            self.push_type(Type::Int(Int {
                name: Name(0),
                byte_size: 4,
                encoding: IntEncoding {
                    signed: true,
                    ..IntEncoding::default()
                },
                bit_offset: 0,
                bits: 32,
            }))
        })
    }
}
